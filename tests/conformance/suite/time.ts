import { beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** `since` (inclusive) and `until` (exclusive) on every read that takes them, and on deleteMany. */
export function timeSuite(h: StoreHarness): void {
  describe(`${h.name}#since/until`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('time');
    const at = (day: number, ms = 0) => new Date(Date.UTC(2026, 0, day, 12, 0, 0, ms));
    beforeAll(async () => {
      await store().saveMany([
        { id: 'd1', namespace: ns, content: 'meeting notes on day one', timestamp: at(1) },
        { id: 'd2', namespace: ns, content: 'meeting notes on day two', timestamp: at(2) },
        { id: 'd2b', namespace: ns, content: 'meeting notes on day two, a millisecond later', timestamp: at(2, 1) },
        { id: 'd3', namespace: ns, content: 'meeting notes on day three', timestamp: at(3) },
        { id: 'd9', namespace: ns, content: 'meeting notes on day nine', timestamp: at(9) },
      ]);
    });
    const ids = (ms: { id: string }[]) => ms.map((m) => m.id);

    it('since is inclusive, until exclusive, to the millisecond', async () => {
      expect(ids(await store().list({ namespace: ns, since: at(2) }))).toEqual(['d9', 'd3', 'd2b', 'd2']);
      expect(ids(await store().list({ namespace: ns, until: at(2, 1) }))).toEqual(['d2', 'd1']);
      expect(ids(await store().list({ namespace: ns, since: at(2), until: at(3) }))).toEqual(['d2b', 'd2']);
      expect(await store().list({ namespace: ns, since: at(3), until: at(3) })).toEqual([]);
      expect(await store().list({ namespace: ns, since: at(9), until: at(1) })).toEqual([]);
    });

    it('takes Dates and ISO 8601 strings (a date alone is midnight UTC)', async () => {
      expect(ids(await store().list({ namespace: ns, since: '2026-01-03' }))).toEqual(['d9', 'd3']);
      expect(ids(await store().list({ namespace: ns, since: '2026-01-02T13:00:00+01:00', until: '2026-01-04T00:00:00Z' }))).toEqual(['d3', 'd2b', 'd2']);
    });

    it('count, search (both modes) and listPage see the same window', async () => {
      const window = { since: at(2), until: at(9) };
      expect(await store().count({ namespace: ns, ...window })).toBe(3);
      expect(await store().count(ns)).toBe(5);
      for (const mode of ['all', 'any'] as const) {
        expect(ids(await store().search('meeting notes', { namespace: ns, mode, limit: 10, ...window })).sort()).toEqual(['d2', 'd2b', 'd3']);
      }
      const first = await store().listPage({ namespace: ns, limit: 2, ...window });
      expect(ids(first.memories)).toEqual(['d3', 'd2b']);
      const second = await store().listPage({ namespace: ns, limit: 2, ...window, cursor: first.cursor! });
      expect(ids(second.memories)).toEqual(['d2']);
      expect(second.cursor).toBeNull();
    });

    it('deleteMany by time', async () => {
      const other = uniqueNamespace('time-delete');
      await store().saveMany([1, 2, 3, 4].map((d) => ({ id: `x${d}`, namespace: other, content: 'old notes', timestamp: at(d) })));
      expect(await store().deleteMany({ namespace: other, until: at(3) })).toBe(2);
      expect(ids(await store().list({ namespace: other }))).toEqual(['x4', 'x3']);
      expect(await store().deleteMany({ namespace: other, since: at(4) })).toBe(1);
      expect(ids(await store().list({ namespace: other }))).toEqual(['x3']);
    });

    it.each([
      ['since', 'yesterday'],
      ['until', '2026-01-31T09:30'],
      ['since', 1706693400000],
      ['until', new Date(NaN)],
      ['since', new Date('+010000-01-01T00:00:00Z')],
    ])('refuses %s = %p', async (key, value) => {
      for (const call of [
        () => store().list({ namespace: ns, [key]: value }),
        () => store().count({ namespace: ns, [key]: value }),
        () => store().search('notes', { namespace: ns, [key]: value }),
        () => store().deleteMany({ namespace: ns, [key]: value }),
      ]) {
        await expect(call()).rejects.toThrow(ValidationError);
        await expect(call()).rejects.toThrow(new RegExp(`^options\\.${key} must`));
      }
      expect(await store().count(ns)).toBe(5);
    });
  });
}
