/**
 * A custom MemoryStore kept in a Map, with only the SPEC's methods (no
 * `iterate`, `getMany` or `countByNamespace`), to prove the operations work
 * with any store. Search is a plain substring match; it is not under test.
 */
import type { ListOptions, Memory, MemoryStore, NewMemory, SearchOptions, SearchResult, TableStats } from '../../src';

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
    }));
    for (const m of saved) this.rows.set(this.key(m.namespace, m.id), m);
    return saved;
  }

  async get(id: string, namespace = 'default'): Promise<Memory | null> {
    return this.rows.get(this.key(namespace, id)) ?? null;
  }

  async delete(id: string, namespace = 'default'): Promise<boolean> {
    return this.rows.delete(this.key(namespace, id));
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const ns = options.namespace ?? 'default';
    return [...this.rows.values()].filter((m) => m.namespace === ns && m.content.includes(query)).map((m) => ({ ...m, score: 1 }));
  }

  async list(options: ListOptions = {}): Promise<Memory[]> {
    const ns = options.namespace ?? 'default';
    return [...this.rows.values()].filter((m) => m.namespace === ns).sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime());
  }

  async count(namespace = 'default'): Promise<number> {
    return [...this.rows.values()].filter((m) => m.namespace === namespace).length;
  }

  async clear(namespace: string): Promise<number> {
    let n = 0;
    for (const [k, m] of this.rows) if (m.namespace === namespace && this.rows.delete(k)) n++;
    return n;
  }

  async getAllNamespaces(): Promise<string[]> {
    return [...new Set([...this.rows.values()].map((m) => m.namespace))].sort();
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
