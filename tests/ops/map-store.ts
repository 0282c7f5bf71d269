/**
 * A custom MemoryStore kept in a Map, with only the contract's methods (no
 * `iterate`, `getMany` or `countByNamespace`), to prove the operations work
 * with any store. Search is a plain substring match and the newer methods
 * are minimal; they are not under test. Expired memories are never returned.
 */
import type { CountOptions, DeleteManyOptions, ListOptions, ListPageOptions, Memory, MemoryPage, MemoryPatch, MemoryStore, NewMemory, SearchOptions, SearchResult, TableStats } from '../../src';
import { matchesWhere, validateWhere } from '../../src';

const live = (m: Memory): boolean => !m.expiresAt || m.expiresAt.getTime() > Date.now();

export class MapStore implements MemoryStore {
  readonly rows = new Map<string, Memory>();
  calls = { getAllMemories: 0, saveMany: 0 };

  private key(namespace: string, id: string): string {
    return JSON.stringify([namespace, id]);
  }

  async save(memory: NewMemory): Promise<Memory> {
    return (await this.saveMany([memory]))[0];
  }

  async saveMany(memories: NewMemory[]): Promise<Memory[]> {
    this.calls.saveMany++;
    const saved = memories.map((m, i) => ({
      id: m.id ?? `gen-${Date.now()}-${i}`,
      content: m.content,
      metadata: JSON.parse(JSON.stringify(m.metadata ?? {})), // not structuredClone: under jest it makes objects of another realm
      tags: [...new Set(m.tags ?? [])],
      namespace: m.namespace ?? 'default',
      timestamp: new Date((m.timestamp ?? new Date()).getTime()),
      ...(m.expiresAt ? { expiresAt: new Date(m.expiresAt.getTime()) } : m.ttl ? { expiresAt: new Date(Date.now() + m.ttl * 1000) } : {}),
    }));
    for (const m of saved) this.rows.set(this.key(m.namespace, m.id), m);
    return saved;
  }

  async get(id: string, namespace = 'default'): Promise<Memory | null> {
    const m = this.rows.get(this.key(namespace, id));
    return m && live(m) ? m : null;
  }

  async delete(id: string, namespace = 'default'): Promise<boolean> {
    return this.rows.delete(this.key(namespace, id));
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const ns = options.namespace ?? 'default';
    return (await this.list({ namespace: ns, where: options.where })).filter((m) => m.content.includes(query)).map((m) => ({ ...m, score: 1 }));
  }

  async list(options: ListOptions = {}): Promise<Memory[]> {
    const ns = options.namespace ?? 'default';
    const where = validateWhere(options.where);
    return [...this.rows.values()]
      .filter((m) => m.namespace === ns && live(m) && matchesWhere(where, m.metadata))
      .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime());
  }

  async listPage(options: ListPageOptions = {}): Promise<MemoryPage> {
    return { memories: await this.list({ ...options, cursor: undefined } as ListOptions), cursor: null };
  }

  async count(options: string | CountOptions = 'default'): Promise<number> {
    return (await this.list(typeof options === 'string' ? { namespace: options } : options)).length;
  }

  async update(id: string, patch: MemoryPatch, namespace = 'default'): Promise<Memory | null> {
    const m = await this.get(id, namespace);
    if (!m) return null;
    const next = { ...m, ...(patch.content ? { content: patch.content } : {}), ...(patch.tags ? { tags: patch.tags } : {}) };
    this.rows.set(this.key(namespace, id), next);
    return next;
  }

  async deleteMany(options: DeleteManyOptions): Promise<number> {
    let n = 0;
    for (const m of await this.list(options)) if ((!options.ids || options.ids.includes(m.id)) && this.rows.delete(this.key(m.namespace, m.id))) n++;
    return n;
  }

  async purgeExpired(): Promise<number> {
    let n = 0;
    for (const [k, m] of this.rows) if (!live(m) && this.rows.delete(k)) n++;
    return n;
  }

  async clear(namespace: string): Promise<number> {
    let n = 0;
    for (const [k, m] of this.rows) if (m.namespace === namespace && this.rows.delete(k)) n++;
    return n;
  }

  async getAllNamespaces(): Promise<string[]> {
    return [...new Set([...this.rows.values()].filter(live).map((m) => m.namespace))].sort();
  }

  async getAllMemories(namespace: string): Promise<Memory[]> {
    this.calls.getAllMemories++;
    return this.list({ namespace });
  }

  async getTableStats(): Promise<TableStats> {
    return { totalMemories: this.rows.size, namespaces: (await this.getAllNamespaces()).length, avgSize: 0 };
  }

  async close(): Promise<void> {}
}
