/**
 * Hierarchical namespaces: `namespacePrefix` on search, list and
 * getAllNamespaces reads exactly the namespaces whose path starts with the
 * prefix (never a look-alike: `['a']` is not a prefix of `['ab']`, `_` and
 * `%` are no wildcards), never a plain namespace, and only when asked.
 * Searches across a prefix merge each namespace's own exact ranking by score.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LIMITS, namespacePath, parseNamespacePath, ValidationError, type Memory, type SearchResult } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const isPrefix = (prefix: string[], of: string[]) => prefix.length <= of.length && prefix.every((l, i) => of[i] === l);

/** The order of a list across namespaces: newest first, then id, then namespace, by bytes, descending. */
const newestFirst = (a: Memory, b: Memory) => b.timestamp.getTime() - a.timestamp.getTime() || bytes(b.id, a.id) || bytes(b.namespace, a.namespace);

async function expectValidation(promise: Promise<unknown>, field: string, rule: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
  expect((error as ValidationError).message).toMatch(rule);
}

export function prefixSuite(h: StoreHarness): void {
  describe(`${h.name}#namespacePrefix`, () => {
    const store = useStore(h);
    const root = uniqueNamespace('tree');
    const p = (...labels: string[]) => namespacePath([root, ...labels]);
    const minute = (m: number) => new Date(Date.UTC(2026, 2, 1, 9, m));
    // Look-alike labels under one root: none is a prefix of another.
    const LABELS = ['a', 'ab', 'a_b', 'aXb', 'a%', 'abc', 'a\\', 'a\\b', 'a/b', 'a:b', 'a.b', '', ' ', 'a\u001f', 'a\u001e', 'é', 'e\u0301'];
    const plain = `${root}-plain`;

    beforeAll(async () => {
      await store().saveMany([
        ...LABELS.map((label, i) => ({ id: 'same', namespace: p(label), content: `otter number ${i} lives here`, timestamp: minute(i), tags: ['t'] })),
        { id: 'deep', namespace: p('a', 'b', 'c'), content: 'a deep otter in a burrow', timestamp: minute(30) },
        { id: 'child', namespace: p('a', 'x'), content: 'an otter child namespace', timestamp: minute(31) },
        { id: 'same', namespace: plain, content: 'a plain otter namespace', timestamp: minute(32) },
        { id: 'same', namespace: `${root}/a`, content: 'a plain otter namespace that looks like a path' },
      ]);
    });

    it('lists exactly the namespaces under a prefix, in byte order, and look-alikes never', async () => {
      for (const label of LABELS) {
        const expected = [p(label), ...(label === 'a' ? [p('a', 'b', 'c'), p('a', 'x')] : [])].sort(bytes);
        expect(await store().getAllNamespaces({ namespacePrefix: [root, label] })).toEqual(expected);
      }
      expect(await store().getAllNamespaces({ namespacePrefix: [root, 'a', 'b'] })).toEqual([p('a', 'b', 'c')]);
      expect(await store().getAllNamespaces({ namespacePrefix: [root, 'a', 'b', 'c', 'd'] })).toEqual([]);
      expect(await store().getAllNamespaces({ namespacePrefix: [root, 'zzz'] })).toEqual([]);
      const all = await store().getAllNamespaces({ namespacePrefix: [root] });
      expect(all).toHaveLength(LABELS.length + 2);
      expect([...all].sort(bytes)).toEqual(all);
    });

    it('[] spans every path namespace and no plain one', async () => {
      const all = await store().getAllNamespaces({ namespacePrefix: [] });
      expect(all).toEqual(expect.arrayContaining([p('a'), p('a', 'b', 'c')]));
      expect(all).not.toContain(plain);
      for (const ns of all) expect(parseNamespacePath(ns)).not.toBeNull();
    });

    it('without namespacePrefix nothing crosses: the namespace alone is read', async () => {
      expect((await store().search('otter', { namespace: p('a'), limit: 100 })).map((r) => r.namespace)).toEqual([p('a')]);
      expect((await store().list({ namespace: p('a') })).map((m) => m.namespace)).toEqual([p('a')]);
      expect(await store().count(p('a'))).toBe(1);
      expect(await store().getAllNamespaces()).toEqual(expect.arrayContaining([plain, p('a')]));
    });

    it('searches exactly the namespaces under the prefix', async () => {
      for (const mode of ['all', 'any'] as const) {
        for (const label of LABELS) {
          const hits = await store().search('otter', { namespacePrefix: [root, label], mode, limit: 100 });
          const expected = label === 'a' ? [p('a'), p('a', 'b', 'c'), p('a', 'x')] : [p(label)];
          expect(hits.map((r) => r.namespace).sort(bytes)).toEqual(expected.sort(bytes));
        }
      }
    });

    it('merges the namespaces’ own rankings by score (each its exact top-k), best first', async () => {
      const prefix = [root];
      for (const mode of ['all', 'any'] as const) {
        for (const [query, limit] of [
          ['otter', 5],
          ['otter burrow', 3],
          ['deep otter child', 100],
        ] as const) {
          const merged = await store().search(query, { namespacePrefix: prefix, mode, limit });
          const names = await store().getAllNamespaces({ namespacePrefix: prefix });
          const each: SearchResult[] = [];
          for (const ns of names) each.push(...(await store().search(query, { namespace: ns, mode, limit })));
          const reference = each.sort((a, b) => b.score - a.score || b.timestamp.getTime() - a.timestamp.getTime()).slice(0, limit);
          expect(merged.map((r) => [r.namespace, r.id, r.score])).toEqual(reference.map((r) => [r.namespace, r.id, r.score]));
          for (const r of merged) expect(r.score).toBeGreaterThanOrEqual(0);
          for (let i = 1; i < merged.length; i++) expect(merged[i - 1].score).toBeGreaterThanOrEqual(merged[i].score);
        }
      }
      const [top] = await store().search('burrow', { namespacePrefix: [root], mode: 'any' });
      expect([top.namespace, top.id]).toEqual([p('a', 'b', 'c'), 'deep']);
    });

    it('lists newest first across the prefix, with limit, offset and tags', async () => {
      const everything = (await Promise.all((await store().getAllNamespaces({ namespacePrefix: [root] })).map((ns) => store().list({ namespace: ns })))).flat().sort(newestFirst);
      expect(await store().list({ namespacePrefix: [root] })).toEqual(everything);
      expect(await store().list({ namespacePrefix: [root], limit: 4 })).toEqual(everything.slice(0, 4));
      expect(await store().list({ namespacePrefix: [root], limit: 3, offset: 5 })).toEqual(everything.slice(5, 8));
      expect(await store().list({ namespacePrefix: [root], offset: everything.length - 1 })).toEqual(everything.slice(-1));
      expect((await store().list({ namespacePrefix: [root], tags: ['t'] })).map((m) => m.namespace)).toEqual(
        everything.filter((m) => m.tags.includes('t')).map((m) => m.namespace),
      );
      expect((await store().list({ namespacePrefix: [root, 'a'] })).map((m) => m.id)).toEqual(['child', 'deep', 'same']);
    });

    it('counts across the prefix, and filters (where, since) apply across it', async () => {
      expect(await store().count({ namespacePrefix: [root] })).toBe(LABELS.length + 2);
      expect(await store().count({ namespacePrefix: [root, 'a'] })).toBe(3);
      expect(await store().count({ namespacePrefix: [root, 'zzz'] })).toBe(0);
      expect(await store().count({ namespacePrefix: [root], tags: ['t'] })).toBe(LABELS.length);
      expect(await store().count({ namespacePrefix: [root], since: minute(30) })).toBe(2);
      const tagged = uniqueNamespace('where');
      await store().saveMany([
        { id: '1', namespace: namespacePath([tagged, 'x']), content: 'filtered otter one', metadata: { kind: 'pet', n: 1 } },
        { id: '2', namespace: namespacePath([tagged, 'y']), content: 'filtered otter two', metadata: { kind: 'wild', n: 2 } },
        { id: '3', namespace: namespacePath([tagged, 'y', 'z']), content: 'filtered otter three', metadata: { kind: 'pet', n: 3 } },
      ]);
      const where = { kind: 'pet' };
      expect((await store().list({ namespacePrefix: [tagged], where })).map((m) => m.id).sort()).toEqual(['1', '3']);
      expect((await store().search('otter', { namespacePrefix: [tagged], where, mode: 'any', limit: 10 })).map((m) => m.id).sort()).toEqual(['1', '3']);
      expect(await store().count({ namespacePrefix: [tagged], where: { n: { $gte: 2 } } })).toBe(2);
      expect((await store().search('otter', { namespacePrefix: [tagged], mode: 'any', limit: 2, offset: 1 })).length).toBe(2);
      await expectValidation(store().count({ namespace: 'a', namespacePrefix: ['a'] }), 'options.namespacePrefix', /cannot be given with options.namespace/);
    });

    it('orders ties across namespaces the same way on every store (id, then namespace, descending by bytes)', async () => {
      const tie = uniqueNamespace('tie');
      const at = new Date(Date.UTC(2026, 0, 1));
      const labels = ['b', 'a', 'é', '😀', '\uffff', 'Z'];
      await store().saveMany(labels.flatMap((label) => ['k1', 'k2'].map((id) => ({ id, namespace: namespacePath([tie, label]), content: 'tied otter', timestamp: at }))));
      const listed = await store().list({ namespacePrefix: [tie] });
      expect(listed.map((m) => [parseNamespacePath(m.namespace)![1], m.id])).toEqual(
        [...listed].sort(newestFirst).map((m) => [parseNamespacePath(m.namespace)![1], m.id]),
      );
      expect(listed.map((m) => m.id)).toEqual([...Array(labels.length).fill('k2'), ...Array(labels.length).fill('k1')]);
      expect(listed.slice(0, labels.length).map((m) => parseNamespacePath(m.namespace)![1])).toEqual(['😀', '\uffff', 'é', 'b', 'a', 'Z']);
    });

    it('sees what is deleted and cleared under the prefix', async () => {
      const gone = uniqueNamespace('gone');
      await store().saveMany([
        { id: '1', namespace: namespacePath([gone, 'x']), content: 'leaving otter' },
        { id: '2', namespace: namespacePath([gone, 'y']), content: 'staying otter' },
        { id: '3', namespace: namespacePath([gone, 'z']), content: 'cleared otter' },
      ]);
      expect(await store().delete('1', namespacePath([gone, 'x']))).toBe(true);
      expect(await store().clear(namespacePath([gone, 'z']))).toBe(1);
      expect(await store().getAllNamespaces({ namespacePrefix: [gone] })).toEqual([namespacePath([gone, 'y'])]);
      expect((await store().search('otter', { namespacePrefix: [gone], mode: 'any' })).map((r) => r.id)).toEqual(['2']);
      expect((await store().list({ namespacePrefix: [gone] })).map((r) => r.id)).toEqual(['2']);
    });

    it('refuses a bad prefix, a prefix beside a namespace, and a malformed path namespace', async () => {
      await expectValidation(store().search('x', { namespacePrefix: 'a' as never }), 'options.namespacePrefix', /must be an array of strings/);
      await expectValidation(store().list({ namespacePrefix: ['a', 1 as never] }), 'options.namespacePrefix[1]', /must be a string/);
      await expectValidation(store().getAllNamespaces({ namespacePrefix: ['a\u0000'] }), 'options.namespacePrefix[0]', /NUL/);
      await expectValidation(store().search('x', { namespacePrefix: ['x'.repeat(300)] }), 'options.namespacePrefix', /at most 255 characters/);
      await expectValidation(store().list({ namespace: 'a', namespacePrefix: ['a'] }), 'options.namespacePrefix', /cannot be given with options.namespace/);
      await expectValidation(store().save({ content: 'x', namespace: '\u001fa' }), 'namespace', /must be a namespace path/);
      await expectValidation(store().get('x', '\u001fa\u001e\u001f'), 'namespace', /must be a namespace path/);
    });

    it(`refuses a search spanning more than ${LIMITS.prefixSearchNamespaces} namespaces, before reading any`, async () => {
      const wide = uniqueNamespace('wide');
      const n = LIMITS.prefixSearchNamespaces + 1;
      await store().saveMany(Array.from({ length: n }, (_, i) => ({ id: 'm', namespace: namespacePath([wide, String(i)]), content: 'a wide otter' })));
      await expectValidation(store().search('otter', { namespacePrefix: [wide] }), 'options.namespacePrefix', new RegExp(`more than ${LIMITS.prefixSearchNamespaces} namespaces in a search`));
      expect(await store().search('otter', { namespacePrefix: [wide, '7'] })).toHaveLength(1);
      expect(await store().list({ namespacePrefix: [wide], limit: 2 })).toHaveLength(2);
      expect(await store().getAllNamespaces({ namespacePrefix: [wide] })).toHaveLength(n);
    });
  });

  describe(`${h.name}#namespacePrefix: generated paths`, () => {
    const store = useStore(h);
    const root = uniqueNamespace('gen');
    const PIECES = ['a', 'b', '_', '%', '\\', '/', ':', '.', ' ', '', '\u001f', '\u001e', 'é', '😀'];
    const label = fc.array(fc.constantFrom(...PIECES), { maxLength: 3 }).map((parts) => parts.join(''));
    const paths = fc.sample(fc.array(label, { minLength: 1, maxLength: 3 }), { numRuns: 150, seed: 42 });
    const unique = [...new Map(paths.map((path) => [JSON.stringify(path), path])).values()];
    const prefixes = fc.sample(fc.array(label, { maxLength: 3 }), { numRuns: 60, seed: 7 }).concat(unique.slice(0, 20), unique.slice(0, 20).map((x) => x.slice(0, -1)));

    beforeAll(async () => {
      await store().saveMany(unique.map((path, i) => ({ id: `m${i}`, namespace: namespacePath([root, ...path]), content: `generated otter ${i}` })));
    });

    it('every generated prefix lists, counts and searches exactly the paths that start with it', async () => {
      for (const prefix of prefixes) {
        const expected = unique.filter((path) => isPrefix(prefix, path)).map((path) => namespacePath([root, ...path])).sort(bytes);
        const listed = await store().getAllNamespaces({ namespacePrefix: [root, ...prefix] });
        expect({ prefix, listed }).toEqual({ prefix, listed: expected });
        for (const ns of listed) expect(parseNamespacePath(ns)!.slice(1)).toEqual(unique.find((path) => namespacePath([root, ...path]) === ns));
        const memories = await store().list({ namespacePrefix: [root, ...prefix] });
        expect(memories.map((m) => m.namespace).sort(bytes)).toEqual(expected);
        if (expected.length <= LIMITS.prefixSearchNamespaces) {
          const hits = await store().search('otter', { namespacePrefix: [root, ...prefix], limit: 1000 });
          expect(hits.map((m) => m.namespace).sort(bytes)).toEqual(expected);
        }
      }
    });
  });
}
