import { beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

export function searchSuite(h: StoreHarness): void {
  describe(`${h.name}#search`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('search');
    beforeAll(async () => {
      await store().saveMany([
        { id: 'one', namespace: ns, content: 'python tips' },
        { id: 'two', namespace: ns, content: 'python python python: the python language, python everywhere' },
        { id: 'three', namespace: ns, content: 'java tips and python notes' },
        ...Array.from({ length: 8 }, (_, i) => ({ id: `filler${i}`, namespace: ns, content: `python filler ${i}` })),
      ]);
    });

    it('returns 5 results by default, best first, with scores that never increase', async () => {
      const results = await store().search('python', { namespace: ns });
      expect(results).toHaveLength(5);
      for (let i = 1; i < results.length; i++) expect(results[i - 1].score).toBeGreaterThanOrEqual(results[i].score);
      expect(results.every((r) => typeof r.score === 'number' && Number.isFinite(r.score))).toBe(true);
    });

    it('ranks the memory that matches best first', async () => {
      const [best] = await store().search('python', { namespace: ns, limit: 11 });
      expect(best.id).toBe('two');
    });

    it('honours limit', async () => {
      expect(await store().search('python', { namespace: ns, limit: 2 })).toHaveLength(2);
      expect(await store().search('python', { namespace: ns, limit: 100 })).toHaveLength(11);
    });

    it("ranks memories matching more terms higher in mode 'any'", async () => {
      const results = await store().search('java tips', { namespace: ns, mode: 'any', limit: 20 });
      expect(results.map((r) => r.id)).toEqual(['three', 'one']);
      expect(results[0].score).toBeGreaterThan(results[1].score);
    });

    it('returns whole memories', async () => {
      const [hit] = await store().search('java', { namespace: ns });
      expect(hit).toMatchObject({ id: 'three', namespace: ns, content: 'java tips and python notes', metadata: {}, tags: [] });
      expect(hit.timestamp).toBeInstanceOf(Date);
    });

    it('searches the default namespace when none is given', async () => {
      const m = await store().save({ content: 'a default namespace axolotl' });
      expect((await store().search('axolotl')).map((r) => r.id)).toEqual([m.id]);
      expect(await store().search('axolotl', { namespace: ns })).toEqual([]);
      await store().delete(m.id);
    });

    it('finds a memory right after it is saved and not after it is replaced', async () => {
      const other = uniqueNamespace();
      await store().save({ id: 'x', namespace: other, content: 'zebra crossing' });
      expect((await store().search('zebra', { namespace: other })).map((r) => r.id)).toEqual(['x']);
      await store().save({ id: 'x', namespace: other, content: 'giraffe crossing' });
      expect(await store().search('zebra', { namespace: other })).toEqual([]);
      expect((await store().search('giraffe', { namespace: other })).map((r) => r.id)).toEqual(['x']);
    });
  });
}
