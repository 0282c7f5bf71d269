import { beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationError, type MemoryStore, type Where } from '../../../src';
import { ALL_FILTER_IDS, FILTER_CASES, FILTER_MEMORIES } from '../../fixtures/filters';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

const sorted = (ids: string[]) => [...ids].sort();

/** Saves the filter fixture in a fresh namespace; returns it. */
async function fill(store: MemoryStore, label: string): Promise<string> {
  const ns = uniqueNamespace(label);
  await store.saveMany(FILTER_MEMORIES.map((m, i) => ({ ...m, namespace: ns, timestamp: new Date(Date.UTC(2026, 0, 1 + i)) })));
  return ns;
}

/**
 * The metadata filter parity table (tests/fixtures/filters.ts) on every read
 * that takes a filter: the same memories on every backend.
 */
export function filtersSuite(h: StoreHarness): void {
  describe(`${h.name}#where`, () => {
    const store = useStore(h);
    let ns: string;
    beforeAll(async () => {
      ns = await fill(store(), 'where');
    });

    it.each(FILTER_CASES)('list: $name', async ({ where, expected }) => {
      const listed = await store().list({ namespace: ns, where });
      expect(sorted(listed.map((m) => m.id))).toEqual(sorted(expected));
      // newest first, as without a filter
      expect(listed.map((m) => m.id)).toEqual([...listed].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime()).map((m) => m.id));
    });

    it.each(FILTER_CASES)('count: $name', async ({ where, expected }) => {
      expect(await store().count({ namespace: ns, where })).toBe(expected.length);
    });

    it.each(FILTER_CASES)('search (both modes): $name', async ({ where, expected }) => {
      for (const mode of ['all', 'any'] as const) {
        const hits = await store().search('memo', { namespace: ns, where, mode, limit: 100 });
        expect({ mode, ids: sorted(hits.map((m) => m.id)) }).toEqual({ mode, ids: sorted(expected) });
      }
    });

    it.each(FILTER_CASES)('listPage, two at a time: $name', async ({ where, expected }) => {
      const seen: string[] = [];
      let cursor: string | null | undefined;
      do {
        const page = await store().listPage({ namespace: ns, where, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.memories.map((m) => m.id));
        cursor = page.cursor;
      } while (cursor);
      expect(sorted(seen)).toEqual(sorted(expected));
    });

    it.each(FILTER_CASES.filter((c) => c.expected.length > 0 && c.expected.length < ALL_FILTER_IDS.length))('deleteMany: $name', async ({ where, expected }) => {
      const copy = await fill(store(), 'where-delete');
      expect(await store().deleteMany({ namespace: copy, where })).toBe(expected.length);
      const left = (await store().list({ namespace: copy })).map((m) => m.id);
      expect(sorted(left)).toEqual(sorted(ALL_FILTER_IDS.filter((id) => !expected.includes(id))));
      await store().clear(copy);
    });

    it('combines where with tags, time and another namespace', async () => {
      const other = await fill(store(), 'where-other');
      await store().save({ id: 'tagged', namespace: ns, content: 'memo tagged', metadata: { source: 'chat' }, tags: ['t'], timestamp: new Date(Date.UTC(2026, 5, 1)) });
      try {
        expect((await store().list({ namespace: ns, where: { source: 'chat' }, tags: ['t'] })).map((m) => m.id)).toEqual(['tagged']);
        expect((await store().list({ namespace: ns, where: { source: 'chat' }, until: '2026-01-05' })).map((m) => m.id)).toEqual(['f3', 'f1']);
        expect((await store().list({ namespace: other, where: { source: 'chat' } })).map((m) => m.id)).toEqual(['f8', 'f3', 'f1']);
      } finally {
        await store().delete('tagged', ns);
        await store().clear(other);
      }
    });

    it('search ranks the matches that pass the filter, however many newer matches fail it', async () => {
      const big = uniqueNamespace('where-pool');
      const minute = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
      await store().saveMany([
        ...Array.from({ length: 3 }, (_, i) => ({ id: `doc${i}`, namespace: big, content: `violin lesson notes ${i}`, metadata: { source: 'doc' }, timestamp: minute(i) })),
        ...Array.from({ length: 1200 }, (_, i) => ({ id: `c${i}`, namespace: big, content: `violin chatter ${i}`, metadata: { source: 'chat' }, timestamp: minute(10 + i) })),
      ]);
      for (const mode of ['all', 'any'] as const) {
        const hits = await store().search('violin', { namespace: big, mode, where: { source: 'doc' }, limit: 10 });
        expect({ mode, ids: hits.map((m) => m.id).sort() }).toEqual({ mode, ids: ['doc0', 'doc1', 'doc2'] });
        const old = await store().search('violin', { namespace: big, mode, until: minute(3), limit: 10 });
        expect({ mode, ids: old.map((m) => m.id).sort() }).toEqual({ mode, ids: ['doc0', 'doc1', 'doc2'] });
      }
      await store().clear(big);
    });

    it('refuses a bad filter on every method before touching anything, naming the path', async () => {
      const bad: Where = { priority: { $gt: true } as never };
      const calls: [string, () => Promise<unknown>][] = [
        ['list', () => store().list({ namespace: ns, where: bad })],
        ['listPage', () => store().listPage({ namespace: ns, where: bad })],
        ['count', () => store().count({ namespace: ns, where: bad })],
        ['search', () => store().search('memo', { namespace: ns, where: bad })],
        ['deleteMany', () => store().deleteMany({ namespace: ns, where: bad })],
      ];
      for (const [method, call] of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ method, error }).toEqual({ method, error: expect.any(ValidationError) });
        expect((error as ValidationError).field).toBe('options.where.priority.$gt');
      }
      expect(await store().count(ns)).toBe(FILTER_MEMORIES.length);
    });
  });
}
