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

  describe(`${h.name}#search ranking (mode 'any')`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('ranking');
    const minute = (m: number) => new Date(Date.UTC(2026, 0, 1, 9, m));
    beforeAll(async () => {
      await store().saveMany([
        { id: 'v0', namespace: ns, content: 'Alice: I started learning the violin this spring', timestamp: minute(0) },
        { id: 'v1', namespace: ns, content: 'Bob: That is great, how is it going?', timestamp: minute(1) },
        { id: 'v2', namespace: ns, content: 'Alice: Slowly, my teacher says my bowing needs work', timestamp: minute(2) },
        ...Array.from({ length: 8 }, (_, i) => ({
          id: `f${i}`,
          namespace: ns,
          content: `Alice: unrelated chatter number ${i} about the weather`,
          timestamp: minute(100 + i),
        })),
      ]);
    });

    it('ranks the turn right after the best match above equally weak matches elsewhere', async () => {
      // v2 answers the question but shares only the speaker's name with it; so do the newer f* turns.
      const results = await store().search('Who helps Alice practice the violin?', { namespace: ns, mode: 'any', limit: 3 });
      expect(results.map((r) => r.id).slice(0, 2)).toEqual(['v0', 'v2']);
      expect(results.map((r) => r.id)).not.toContain('v1'); // a neighbour that matches no word is never returned
    });

    it('still ranks best the memory with the rare word when a common word is left out of the candidates', async () => {
      const big = uniqueNamespace('common');
      await store().saveMany([
        ...Array.from({ length: 1100 }, (_, i) => ({ id: `c${i}`, namespace: big, content: `Alex: small talk ${i}`, timestamp: minute(i) })),
        { id: 'hit', namespace: big, content: 'Alex: my violin recital is on Friday', timestamp: minute(2000) },
        { id: 'other', namespace: big, content: 'Sam: new violin strings', timestamp: minute(3000) },
      ]);
      const results = await store().search('When is the violin recital Alex mentioned?', { namespace: big, mode: 'any', limit: 5 });
      expect(results[0].id).toBe('hit');
      expect(results.map((r) => r.id)).toContain('other');
      for (const r of results) expect(r.content).toMatch(/alex|violin|recital|mention/i);
    });

    it("keeps mode 'all' boolean: only memories holding every word", async () => {
      expect(await store().search('Who helps Alice practice the violin?', { namespace: ns, mode: 'all' })).toEqual([]);
      expect((await store().search('alice violin', { namespace: ns, mode: 'all' })).map((r) => r.id)).toEqual(['v0']);
    });
  });
}
