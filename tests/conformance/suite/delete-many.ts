import { describe, expect, it } from '@jest/globals';
import { ValidationError, type DeleteManyOptions } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** deleteMany: every selector must hold; at least one is required; one namespace only. */
export function deleteManySuite(h: StoreHarness): void {
  describe(`${h.name}#deleteMany`, () => {
    const store = useStore(h);
    const fill = async (label: string) => {
      const ns = uniqueNamespace(label);
      await store().saveMany(
        Array.from({ length: 10 }, (_, i) => ({
          id: `m${i}`,
          namespace: ns,
          content: `project note ${i}`,
          metadata: { project: i % 2 ? 'x' : 'y', i },
          tags: i < 5 ? ['early'] : [],
          timestamp: new Date(Date.UTC(2026, 0, 1 + i)),
        })),
      );
      return ns;
    };
    const ids = async (ns: string) => (await store().list({ namespace: ns })).map((m) => m.id).sort();

    it('deletes by ids, returning how many were there', async () => {
      const ns = await fill('dm-ids');
      expect(await store().deleteMany({ namespace: ns, ids: ['m1', 'm2', 'm2', 'nope'] })).toBe(2);
      expect(await ids(ns)).toEqual(['m0', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
      expect(await store().deleteMany({ namespace: ns, ids: [] })).toBe(0);
      expect(await store().count(ns)).toBe(8);
    });

    it('forgets everything about project X, and the words go from the index', async () => {
      const ns = await fill('dm-where');
      expect(await store().deleteMany({ namespace: ns, where: { project: 'x' } })).toBe(5);
      expect(await ids(ns)).toEqual(['m0', 'm2', 'm4', 'm6', 'm8']);
      expect((await store().search('note', { namespace: ns, limit: 20 })).map((m) => m.id).sort()).toEqual(['m0', 'm2', 'm4', 'm6', 'm8']);
      expect(await store().search('note', { namespace: ns, where: { project: 'x' } })).toEqual([]);
    });

    it('takes every selector together (AND), and tags', async () => {
      const ns = await fill('dm-all');
      expect(await store().deleteMany({ namespace: ns, ids: ['m0', 'm1', 'm2', 'm3', 'm8'], where: { project: 'x' }, since: '2026-01-02', until: '2026-01-09', tags: ['early'] })).toBe(2);
      expect(await ids(ns)).toEqual(['m0', 'm2', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
      expect(await store().deleteMany({ namespace: ns, tags: ['early'] })).toBe(3);
    });

    it('never touches another namespace', async () => {
      const a = await fill('dm-a');
      const b = await fill('dm-b');
      expect(await store().deleteMany({ namespace: a, where: { i: { $gte: 0 } } })).toBe(10);
      expect(await store().count(a)).toBe(0);
      expect(await store().count(b)).toBe(10);
    });

    it.each<[string, unknown, string]>([
      ['no selector', {}, 'options'],
      ['an empty where', { where: {} }, 'options'],
      ['no options', undefined, 'options'],
      ['ids not an array', { ids: 'm1' }, 'options.ids'],
      ['a bad id', { ids: ['m1', ''] }, 'options.ids[1]'],
      ['too many ids', { ids: Array.from({ length: 100_001 }, (_, i) => `i${i}`) }, 'options.ids'],
      ['a bad filter', { where: { i: { $gt: [1] } } }, 'options.where.i.$gt'],
    ])('refuses %s, deleting nothing', async (_label, options, field) => {
      const ns = await fill('dm-bad');
      const opts = options === undefined ? undefined : { namespace: ns, ...(options as object) };
      const error = await store()
        .deleteMany(opts as DeleteManyOptions)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect(await store().count(ns)).toBe(10);
    });

    it('says to use clear for a whole namespace', async () => {
      await expect(store().deleteMany({ namespace: 'whatever' })).rejects.toThrow(/to remove a whole namespace, use clear/);
    });
  });
}
