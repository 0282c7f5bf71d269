/**
 * Issue 10 on every store: a question that shares a word with a memory
 * finds something, whatever the counts around the engine's thresholds;
 * scores are in [0, 1]; ties keep the order the caller saved them in; and a
 * namespace's scores do not depend on other namespaces.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemo } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/**
 * Counts of memories holding the common word on both sides of every bound
 * the engine keeps (src/search/top-k.ts): its first read depth (64) and the
 * size under which a word is read whole (2,048).
 */
const COUNTS = [1, 63, 64, 65, 2047, 2048, 2049];

export function rankingSuite(h: StoreHarness): void {
  describe(`${h.name}#search never comes back empty when a word of the question occurs`, () => {
    const store = useStore(h);
    const namespaces = new Map(COUNTS.map((n) => [n, uniqueNamespace(`zebra${n}`)]));
    beforeAll(async () => {
      for (const [n, ns] of namespaces) {
        await store().saveMany(Array.from({ length: n }, (_, i) => ({ namespace: ns, content: `zebra number ${i} grazes ${i % 3 ? 'in the field' : 'near the river'}` })));
      }
    }, 120_000);

    it.each(COUNTS)('%i memories hold "zebra": mode any and getContext find them, with words the namespace lacks', async (n) => {
      const ns = namespaces.get(n)!;
      const any = await store().search('tell me about zebra', { namespace: ns, mode: 'any' });
      expect(any).toHaveLength(Math.min(5, n));
      const context = await new AIMemo({ store: store(), namespace: ns }).getContext('what do you know about zebras?');
      expect(context).toMatch(/zebra number/);
      // A rarer word of the question ranks first; the common one still counts.
      const river = await store().search('zebra grazes near the river', { namespace: ns, mode: 'any', limit: 3 });
      expect(river[0].content).toMatch(/river/);
    });

    it('an all-required query whose rarest word is common still finds the exact top (mode all)', async () => {
      const ns = namespaces.get(2049)!;
      const found = await store().search('zebra river', { namespace: ns, limit: 10 });
      expect(found).toHaveLength(10);
      expect(found.every((r) => /river/.test(r.content))).toBe(true);
    });
  });

  describe(`${h.name}#search scores`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('scores');
    beforeAll(async () => {
      await store().saveMany([
        { namespace: ns, content: 'the quick brown fox' },
        { namespace: ns, content: 'a brown dog sleeps' },
        { namespace: ns, content: 'fox fox fox fox fox' },
      ]);
    });

    it('are in [0, 1], best first, in both modes', async () => {
      for (const mode of ['all', 'any'] as const) {
        const found = await store().search('brown fox', { namespace: ns, mode: 'any' === mode ? 'any' : 'all', limit: 10 });
        expect(found.length).toBeGreaterThan(0);
        for (const r of found) expect(r.score > 0 && r.score <= 1).toBe(true);
        for (let i = 1; i < found.length; i++) expect(found[i - 1].score).toBeGreaterThanOrEqual(found[i].score);
      }
    });
  });

  describe(`${h.name}#search ties keep the order of saving`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('ties');
    // Ids whose byte order is not the order given ("turn-10" < "turn-2"), one saveMany, no timestamps: one shared time.
    const turns = Array.from({ length: 12 }, (_, i) => ({ id: `turn-${i}`, namespace: ns, content: i === 6 ? 'the answer is the lighthouse' : `small talk number ${i} about lighthouse keepers` }));
    beforeAll(async () => {
      await store().saveMany(turns);
    });

    it('equal scores: the memory saved later first', async () => {
      const found = await store().search('small talk', { namespace: ns, limit: 20 });
      const order = found.map((r) => Number(r.id.slice(5)));
      expect(order).toEqual([...order].sort((a, b) => b - a));
    });

    it("the neighbours mode any looks at follow the caller's order, not the ids'", async () => {
      // "answer" is held by turn 6 alone; turns 4, 5, 7 and 8 sit next to it in the order given.
      const found = await store().search('answer talk', { namespace: ns, mode: 'any', limit: 5 });
      expect(found[0].id).toBe('turn-6');
      expect(found.slice(1).map((r) => r.id).sort()).toEqual(['turn-4', 'turn-5', 'turn-7', 'turn-8']);
    });
  });

  describe(`${h.name}#search does not depend on other namespaces`, () => {
    const store = useStore(h);
    const mine = uniqueNamespace('mine');
    const other = uniqueNamespace('other');
    beforeAll(async () => {
      await store().saveMany(Array.from({ length: 50 }, (_, i) => ({ namespace: mine, content: `violin lesson ${i} ${i % 4 ? 'scales' : 'bach partita'}` })));
    });

    it('the same results and scores after another namespace gains thousands of memories holding the words', async () => {
      const before = await store().search('violin bach scales', { namespace: mine, mode: 'any', limit: 10 });
      for (let k = 0; k < 4; k++) {
        await store().saveMany(Array.from({ length: 1000 }, (_, i) => ({ namespace: other, content: `bach violin scales ${k}-${i}` })));
      }
      const after = await store().search('violin bach scales', { namespace: mine, mode: 'any', limit: 10 });
      expect(after.map((r) => [r.id, r.score])).toEqual(before.map((r) => [r.id, r.score]));
    }, 120_000);
  });
}
