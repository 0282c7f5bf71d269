import { beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemo, StoreClosedError, ValidationError, type Memory, type MemoryStore, type SearchOptions } from '../../../src';
import { parseQuery } from '../../../src/search/query';
import { matches } from '../../helpers/evaluate-query';
import { prng } from '../../helpers/reliability';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** Words neither dialect stems or drops, so the reference evaluator agrees with both. */
const CORPUS: [string, string][] = [
  ['a1', 'apple pie recipe'],
  ['a2', 'apple z5 banana'],
  ['a3', 'w31 and something else'],
  ['a4', 'w30 apple'],
  ['a5', 'banana bread z91'],
  ['a6', 'w7 w8 apple pie'],
];

/** `(w31 OR (w30 (w29 OR (… apple))))`, `levels` deep, as in issue 11. */
function nested(levels: number): string {
  let q = 'apple';
  for (let i = 0; i < levels; i++) q = `(w${i} ${i % 2 ? 'OR ' : ''}${q})`;
  return q;
}

/** A seeded jumble of operators, brackets, quotes and words, `size` characters long. */
function jumble(size: number, seed: number): string {
  const parts = ['apple', 'banana', 'pie', 'w30', 'w31', 'z5', 'AND', 'OR', 'NOT', '(', ')', '"', '*', 'z91', 'w7', 'w8', 'recipe', 'bread'];
  const random = prng(seed);
  let out = '';
  while (out.length < size) out += `${parts[Math.floor(random() * parts.length)]}${random() < 0.2 ? '' : ' '}`;
  return out;
}

/** Queries at and far past the parser's bounds (QUERY_LIMITS), each answered with results or [] on every backend. */
const HOSTILE_QUERIES: [string, string][] = [
  ['apple followed by 92 NOTs (825 characters)', `apple ${Array.from({ length: 92 }, (_, i) => `NOT z${i}`).join(' ')}`],
  ['apple followed by 5,000 NOTs', `apple ${Array.from({ length: 5000 }, (_, i) => `NOT z${i}`).join(' ')}`],
  ['32 nested levels of OR and implicit AND', nested(32)],
  ['1,000 nested levels of OR and implicit AND', nested(1000)],
  ['2,422 open brackets then a word', `${'('.repeat(2422)}apple`],
  ['100,000 brackets around a word', `${'('.repeat(100_000)}apple${')'.repeat(100_000)}`],
  ['100,000 closing brackets first', `${')'.repeat(100_000)}apple pie`],
  ['5,000 distinct words joined by OR', `${Array.from({ length: 5000 }, (_, i) => `w${i}`).join(' OR ')} OR apple`],
  ['the same word 200,000 times', 'apple '.repeat(200_000)],
  ['a phrase of 10,000 words', `"apple pie ${'recipe '.repeat(10_000)}"`],
  ['NOT chains inside nested groups', `(apple NOT (z5 NOT (z91 NOT (w7 NOT (w8 NOT (pie NOT banana))))))`],
  ['brackets 12 deep with every operator at each level', Array.from({ length: 12 }).reduce<string>((q, _, i) => `w${i} OR (apple AND ${q}) NOT z${i}`, 'pie')],
  ['a 1 MB jumble of words, operators, brackets and quotes', jumble(1_000_000, 11)],
  ['a 20 KB jumble', jumble(20_000, 7)],
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((seed): [string, string] => [`a 300-character jumble (seed ${seed})`, jumble(300, seed)]),
  ['a word OR a NOT group, in mode any (only one plain word to count)', 'apple OR (pie NOT banana)'],
];

/** Options that are not an object, or keys no method knows: refused, never read as "no options" (the default namespace). */
const BAD_OPTIONS: [string, unknown, string][] = [
  ['a string (a namespace passed where options belong)', 'victim', 'options'],
  ['null', null, 'options'],
  ['a number', 42, 'options'],
  ['an array', [{ namespace: 'victim' }], 'options'],
  ['a Map', new Map([['namespace', 'victim']]), 'options'],
  ['a misspelt namespace key', { namesapce: 'victim' }, 'options.namesapce'],
];

/** Metadata `depth` objects deep. */
function deepObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

/** Bounds of the input (queries, options, metadata) and the store's lifecycle (issue 11): on every backend. */
export function limitsSuite(h: StoreHarness): void {
  describe(`${h.name}#limits`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('limits');
    beforeAll(async () => {
      await store().saveMany(CORPUS.map(([id, content], i) => ({ id, namespace: ns, content, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)) })));
      // The same texts in the default namespace: a search that fell back to it would find these.
      await store().saveMany(CORPUS.map(([id, content]) => ({ id: `default-${id}`, content })));
    });

    describe('any string is a query: bounded, and answered identically on every backend', () => {
      const cases = HOSTILE_QUERIES.flatMap(([what, q]) => (['all', 'any'] as const).map((mode) => [what, mode, q] as const));
      it.each(cases)('%s (mode %s)', async (_what, mode, q) => {
        const tree = parseQuery(q, mode);
        const expected = tree ? CORPUS.filter(([, text]) => matches(tree, text)).map(([id]) => id) : [];
        const hits = await store().search(q, { namespace: ns, mode, limit: 100 });
        expect(hits.map((hit) => hit.id).sort()).toEqual(expected.sort());
      });

      it('gives a prompt context (or an empty one) for the same queries', async () => {
        const memo = new AIMemo({ store: store(), namespace: ns });
        for (const [, q] of HOSTILE_QUERIES) expect(typeof (await memo.getContext(q))).toBe('string');
      });
    });

    describe('options must be an object of known keys', () => {
      /** The call, or 'absent' when a custom store does not have the method. */
      const calls: [string, (s: MemoryStore, bad: unknown) => Promise<unknown>][] = [
        ['search', (s, bad) => s.search('apple', bad as SearchOptions)],
        ['list', (s, bad) => s.list(bad as never)],
        ['iterate', async (s, bad) => {
          const iterate = (s as { iterate?: (ns: string, o: unknown) => AsyncIterator<Memory[]> }).iterate;
          return iterate ? iterate.call(s, ns, bad).next() : 'absent';
        }],
        ['optimize', async (s, bad) => {
          const optimize = (s as { optimize?: (o: unknown) => Promise<unknown> }).optimize;
          return optimize ? optimize.call(s, bad) : 'absent';
        }],
        ['listPage', (s, bad) => s.listPage(bad as never)],
        ['deleteMany', (s, bad) => s.deleteMany(bad as never)],
        ['getAllNamespaces', (s, bad) => s.getAllNamespaces(bad as never)],
        // count's argument is a namespace or options: a string is a namespace, any other non-object a bad namespace
        ['count', (s, bad) => (typeof bad === 'string' ? Promise.resolve('absent') : s.count(bad as never))],
      ];
      const fieldOf = (method: string, field: string) => (method === 'count' && field === 'options' ? 'namespace' : field);
      const cases = calls.flatMap(([method, call]) => BAD_OPTIONS.map(([what, bad, field]) => [method, what, call, bad, fieldOf(method, field)] as const));
      it.each(cases)('%s refuses options that are %s', async (_method, _what, call, bad, field) => {
        const outcome = await call(store(), bad).then(
          (value) => value,
          (e: unknown) => e,
        );
        if (outcome === 'absent') return;
        expect(outcome).toBeInstanceOf(ValidationError);
        expect((outcome as ValidationError).field).toBe(field);
      });

      it('still accepts no options, undefined and an empty object', async () => {
        expect(await store().search('apple', undefined)).toEqual(expect.any(Array));
        expect((await store().search('apple', {})).length).toBeGreaterThan(0); // the default namespace has the texts too
        expect(await store().list()).toEqual(expect.any(Array));
        expect((await store().listPage()).memories).toEqual(expect.any(Array));
        expect(await store().count()).toEqual(expect.any(Number));
        expect(await store().count({})).toBe(await store().count());
        expect(await store().getAllNamespaces({})).toEqual(expect.any(Array));
      });

      it('deleteMany with a refused option deletes nothing', async () => {
        const before = await store().count(ns);
        await expect(store().deleteMany({ namespace: ns, ids: ['a'], namesapce: 'victim' } as never)).rejects.toThrow(ValidationError);
        expect(await store().count(ns)).toBe(before);
      });
    });

    describe('metadata is nested at most 64 deep, checked without recursion', () => {
      it('accepts 64 levels and gives them back unchanged', async () => {
        const metadata = deepObject(64);
        const saved = await store().save({ id: 'deep64', namespace: ns, content: 'deep metadata', metadata: metadata as never });
        expect((await store().get('deep64', ns))?.metadata).toEqual(metadata);
        expect(saved.metadata).toEqual(metadata);
      });

      it.each([65, 3_000, 3_750, 100_000])('refuses %i levels of objects with ValidationError, never RangeError', async (depth) => {
        const error = await store()
          .save({ id: `deep${depth}`, namespace: ns, content: 'too deep', metadata: deepObject(depth) as never })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).rule).toMatch(/nested at most 64/);
        expect((error as ValidationError).field).toMatch(/^metadata(\.a)+$/);
        expect(await store().get(`deep${depth}`, ns)).toBeNull();
      });

      it('refuses arrays nested 65 deep too, naming the path', async () => {
        let value: unknown = 1;
        for (let i = 0; i < 64; i++) value = [value];
        const error = await store()
          .save({ namespace: ns, content: 'deep arrays', metadata: { list: value } as never })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).field).toBe(`metadata.list${'[0]'.repeat(63)}`);
      });
    });

    describe('close() while calls are in flight', () => {
      type Call = [string, (s: MemoryStore, memo: AIMemo) => Promise<unknown>];
      const inFlight: Call[] = [
        ["search in mode 'any'", (s) => s.search('apple pie banana', { namespace: ns, mode: 'any' })],
        ['search', (s) => s.search('apple', { namespace: ns })],
        ['getContext', (_s, memo) => memo.getContext('apple pie banana')],
        ['get', (s) => s.get('a1', ns)],
        ['save', (s) => s.save({ namespace: uniqueNamespace('closing'), content: 'written while closing' })],
        ['saveMany', (s) => s.saveMany(Array.from({ length: 50 }, (_, i) => ({ namespace: uniqueNamespace('closing'), content: `row ${i}` })))],
        ['list', (s) => s.list({ namespace: ns })],
        ['count', (s) => s.count(ns)],
        ['getAllNamespaces', (s) => s.getAllNamespaces()],
        ['getTableStats', (s) => s.getTableStats()],
        ['iterate, read to the end', async (s) => {
          const it = (s as { iterate?: (ns: string, o: unknown) => AsyncIterable<Memory[]> }).iterate;
          if (!it) return 'no iterate';
          const seen: Memory[] = [];
          for await (const batch of it.call(s, ns, { batchSize: 1 })) seen.push(...batch);
          return seen;
        }],
      ];
      it.each(inFlight)('%s settles with its result or StoreClosedError, never a TypeError', async (_what, call) => {
        const s = await h.create();
        const memo = new AIMemo({ store: s, namespace: ns });
        // Opened, migrated and holding matches (a fresh SQLite store is empty): the race is with real work.
        await s.saveMany(CORPUS.map(([id, content], i) => ({ id, namespace: ns, content, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)) })));
        const pending = call(s, memo).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        const closed = s.close();
        const outcome = await pending;
        await closed;
        if ('error' in outcome) expect(outcome.error).toBeInstanceOf(StoreClosedError);
        await expect(s.count(ns)).rejects.toBeInstanceOf(StoreClosedError);
        await h.destroy(s); // a second close is a no-op
      });

      it('settles every call started in the same tick as close(), also on a store that never opened', async () => {
        const s = await h.create();
        const memo = new AIMemo({ store: s, namespace: ns });
        const pending = [
          s.search('apple pie banana', { namespace: ns, mode: 'any' }), // several round trips: word counts, matches, neighbours
          memo.getContext('what about apple pie and banana bread?'),
          s.count(ns),
          s.get('a1', ns),
          s.list({ namespace: ns }),
        ].map((p) =>
          p.then(
            () => 'ok',
            (e: unknown) => (e instanceof StoreClosedError ? 'closed' : e),
          ),
        );
        await Promise.all([s.close(), s.close()]);
        for (const outcome of await Promise.all(pending)) expect(['ok', 'closed']).toContain(outcome);
        await h.destroy(s);
      });
    });
  });
}
