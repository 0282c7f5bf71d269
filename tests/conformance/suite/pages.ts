import { beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationError, type Memory, type MemoryStore } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

async function allPages(store: MemoryStore, namespace: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page: { memories: Memory[]; cursor: string | null } = await store.listPage({ namespace, limit, ...(cursor ? { cursor } : {}) });
    ids.push(...page.memories.map((m) => m.id));
    pages++;
    cursor = page.cursor;
  } while (cursor);
  return { ids, pages };
}

/** listPage (keyset cursors) and search offsets. */
export function pagesSuite(h: StoreHarness): void {
  describe(`${h.name}#listPage`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('pages');
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
    // 25 memories, with runs of equal timestamps so ties (id descending) cross page boundaries.
    const rows = Array.from({ length: 25 }, (_, i) => ({ id: `p${String(i).padStart(2, '0')}`, namespace: ns, content: `page item ${i}`, timestamp: at(Math.floor(i / 3)) }));
    beforeAll(async () => {
      await store().saveMany(rows);
    });

    it('walks the same order as list, page by page, and ends with a null cursor', async () => {
      const listed = (await store().list({ namespace: ns })).map((m) => m.id);
      for (const limit of [1, 2, 3, 7, 25, 100]) {
        const { ids, pages } = await allPages(store(), ns, limit);
        expect({ limit, ids }).toEqual({ limit, ids: listed });
        expect(pages).toBe(Math.max(1, Math.ceil(25 / limit)));
      }
    });

    it('defaults to 100 per page and returns whole memories', async () => {
      const page = await store().listPage({ namespace: ns });
      expect(page.memories).toHaveLength(25);
      expect(page.cursor).toBeNull();
      expect(page.memories[0]).toEqual(await store().get(page.memories[0].id, ns));
      expect(await store().listPage({ namespace: uniqueNamespace() })).toEqual({ memories: [], cursor: null });
    });

    it('is stable under concurrent inserts: no memory twice, none of the first ones skipped', async () => {
      const live = uniqueNamespace('pages-live');
      await store().saveMany(rows.map((r) => ({ ...r, namespace: live })));
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const page: { memories: Memory[]; cursor: string | null } = await store().listPage({ namespace: live, limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...page.memories.map((m) => m.id));
        cursor = page.cursor;
        // Between pages: a newer memory (before the cursor: never seen), and an older one (after it: seen later).
        round++;
        await store().save({ id: `new${round}`, namespace: live, content: 'inserted while paging', timestamp: at(100 + round) });
        await store().save({ id: `old${round}`, namespace: live, content: 'inserted while paging', timestamp: new Date(Date.UTC(2025, 0, 1, 0, round)) });
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const r of rows) expect(seen).toContain(r.id);
      expect(seen.some((id) => id.startsWith('new'))).toBe(false);
      expect(seen.filter((id) => id.startsWith('old')).length).toBeGreaterThan(0);
    });

    it('takes the filter options on every page', async () => {
      const page = await store().listPage({ namespace: ns, limit: 2, since: at(5), until: at(7) });
      expect(page.memories.map((m) => m.id)).toEqual(['p20', 'p19']);
      const next = await store().listPage({ namespace: ns, limit: 2, since: at(5), until: at(7), cursor: page.cursor! });
      expect(next.memories.map((m) => m.id)).toEqual(['p18', 'p17']);
      const last = await store().listPage({ namespace: ns, limit: 2, since: at(5), until: at(7), cursor: next.cursor! });
      expect(last.memories.map((m) => m.id)).toEqual(['p16', 'p15']);
      expect(last.cursor).toBeNull();
    });

    it.each<[string, unknown]>([
      ['an empty string', ''],
      ['not base64url', 'not a cursor!'],
      ['base64 of something else', Buffer.from('{"a":1}').toString('base64url')],
      ['another version', Buffer.from(JSON.stringify([2, 0, 'x'])).toString('base64url')],
      ['a bad timestamp', Buffer.from(JSON.stringify([1, 'x', 'x'])).toString('base64url')],
      ['an empty id', Buffer.from(JSON.stringify([1, 0, ''])).toString('base64url')],
      ['a number', 5],
      ['too long', 'A'.repeat(5000)],
    ])('refuses a cursor that is %s', async (_label, cursor) => {
      await expect(store().listPage({ namespace: ns, cursor: cursor as string })).rejects.toThrow(/^options\.cursor must be a cursor a previous listPage returned/);
    });

    it.each([0, -1, 1.5, 10_001, '5'])('refuses limit %p', async (limit) => {
      await expect(store().listPage({ namespace: ns, limit: limit as number })).rejects.toThrow(ValidationError);
    });
  });

  describe(`${h.name}#search offset`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('offset');
    beforeAll(async () => {
      await store().saveMany(Array.from({ length: 12 }, (_, i) => ({ id: `o${i}`, namespace: ns, content: `${'budget '.repeat(12 - i)}review ${i}` })));
    });

    it('skips the best results: offset pages through the same ranking', async () => {
      for (const mode of ['all', 'any'] as const) {
        const whole = (await store().search('budget', { namespace: ns, mode, limit: 12 })).map((r) => r.id);
        const pages = [0, 4, 8].map((offset) => store().search('budget', { namespace: ns, mode, limit: 4, offset }));
        expect({ mode, ids: (await Promise.all(pages)).flat().map((r) => r.id) }).toEqual({ mode, ids: whole });
        expect(await store().search('budget', { namespace: ns, mode, offset: 12 })).toEqual([]);
      }
    });

    it('bounds offset + limit at 10,000', async () => {
      await expect(store().search('budget', { namespace: ns, limit: 10, offset: 9_990 })).resolves.toEqual([]);
      await expect(store().search('budget', { namespace: ns, limit: 10, offset: 9_991 })).rejects.toThrow(/^options\.offset plus options\.limit must be at most 10000; got 10001$/);
      await expect(store().search('budget', { namespace: ns, offset: -1 })).rejects.toThrow(ValidationError);
    });
  });
}
