import { beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

export function listSuite(h: StoreHarness): void {
  describe(`${h.name}#list`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('list');
    const day = (d: number) => new Date(Date.UTC(2025, 0, d));
    beforeAll(async () => {
      await store().saveMany([
        { id: 'a', namespace: ns, content: 'oldest', timestamp: day(1), tags: ['t1'] },
        { id: 'b', namespace: ns, content: 'middle', timestamp: day(2), tags: ['t1', 't2'] },
        { id: 'c', namespace: ns, content: 'newest', timestamp: day(3), tags: ['t2'] },
        { id: 'd', namespace: ns, content: 'same time as c', timestamp: day(3) },
      ]);
    });

    it('lists newest first (ties by id, descending)', async () => {
      expect((await store().list({ namespace: ns })).map((m) => m.id)).toEqual(['d', 'c', 'b', 'a']);
    });

    it('pages with limit and offset', async () => {
      expect((await store().list({ namespace: ns, limit: 2 })).map((m) => m.id)).toEqual(['d', 'c']);
      expect((await store().list({ namespace: ns, limit: 2, offset: 2 })).map((m) => m.id)).toEqual(['b', 'a']);
      expect((await store().list({ namespace: ns, offset: 3 })).map((m) => m.id)).toEqual(['a']);
      expect(await store().list({ namespace: ns, offset: 10 })).toEqual([]);
    });

    it('filters by tags (all of them)', async () => {
      expect((await store().list({ namespace: ns, tags: ['t1'] })).map((m) => m.id)).toEqual(['b', 'a']);
      expect((await store().list({ namespace: ns, tags: ['t1', 't2'] })).map((m) => m.id)).toEqual(['b']);
      expect(await store().list({ namespace: ns, tags: ['nope'] })).toEqual([]);
    });

    it('getAllMemories returns the whole namespace, newest first', async () => {
      const all = await store().getAllMemories(ns);
      expect(all.map((m) => m.id)).toEqual(['d', 'c', 'b', 'a']);
      expect(all[0]).toEqual(await store().get('d', ns));
    });

    it('lists nothing for an empty namespace', async () => {
      expect(await store().list({ namespace: uniqueNamespace() })).toEqual([]);
      expect(await store().getAllMemories(uniqueNamespace())).toEqual([]);
    });
  });
}
