/**
 * LangGraph's own expectations of a store, run against AIMemoStore.
 *
 * The "ported" blocks are the behaviour checks of langgraphjs's store tests,
 * kept as they are written there, test by test:
 *   libs/checkpoint/src/tests/store.test.ts            (InMemoryStore, BaseStore's listNamespaces)
 *   libs/checkpoint-postgres/src/tests/store.int.test.ts (PostgresStore: batch, CRUD, errors, listing, search)
 * Left out: embeddings (vector and hybrid search, `index` calls to an
 * embedding function), TTL options and `getStats()`, which are PostgresStore's
 * own API, not BaseStore's. Deliberate differences (docs/langgraph.md) are
 * marked "AIMemo:" where a check differs from the original.
 *
 * The "AIMemo" blocks check what the issue adds: values without text,
 * index fields, prefixes that look alike, timestamps, scores.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { InMemoryStore, InvalidNamespaceError, type Item } from '@langchain/langgraph-checkpoint';
import { ValidationError, type MemoryStore } from '../../src';
import { AIMemoStore, NO_TEXT } from '../../src/langgraph';

export interface LangGraphHarness {
  name: string;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** A new, empty AIMemo store. */
  create(): Promise<MemoryStore>;
}

/** A fresh AIMemoStore per test (LangGraph's tests start every test on an empty store). */
function useFreshStore(h: LangGraphHarness, options?: ConstructorParameters<typeof AIMemoStore>[1]): () => AIMemoStore {
  let memory: MemoryStore | undefined;
  let store: AIMemoStore | undefined;
  beforeEach(async () => {
    await memory?.close();
    memory = await h.create();
    store = new AIMemoStore(memory, options);
  });
  afterAll(async () => {
    await memory?.close();
  });
  return () => store!;
}

export function describeLangGraphStore(h: LangGraphHarness): void {
  if (h.setup) beforeAll(() => h.setup!(), 60_000);
  if (h.teardown) afterAll(() => h.teardown!());

  describe(`${h.name}: ported from InMemoryStore's tests (libs/checkpoint/src/tests/store.test.ts)`, () => {
    const store = useFreshStore(h);

    it('should implement get method', async () => {
      await store().put(['test'], '123', { value: 1 });
      const result = await store().get(['test'], '123');
      expect(result).toEqual({
        value: { value: 1 },
        key: '123',
        namespace: ['test'],
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      });
    });

    it('should implement search method', async () => {
      await store().put(['test'], '123', { value: 1 });
      await store().put(['test'], '456', { value: 2 });
      const result = await store().search(['test']);
      expect(result).toHaveLength(2);
      // AIMemo: most recently updated first, as LangGraph's PostgresStore orders (InMemoryStore: insertion order).
      expect(result[1]).toMatchObject({ value: { value: 1 }, key: '123', namespace: ['test'] });
      expect(result[0]).toMatchObject({ value: { value: 2 }, key: '456', namespace: ['test'] });
    });

    it('should implement put method', async () => {
      await store().put(['test'], '123', { value: 1 });
      const result = await store().get(['test'], '123');
      expect(result).toMatchObject({ value: { value: 1 }, key: '123', namespace: ['test'] });
    });

    it('should implement delete method', async () => {
      await store().put(['test'], '123', { value: 1 });
      await store().delete(['test'], '123');
      const result = await store().get(['test'], '123');
      expect(result).toBeNull();
    });

    it('should implement listNamespaces method', async () => {
      await store().put(['a', 'b', 'c'], '1', { value: 1 });
      await store().put(['a', 'b', 'd'], '2', { value: 2 });
      await store().put(['x', 'y', 'z'], '3', { value: 3 });
      const result = await store().listNamespaces({});
      expect(result).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'd'],
        ['x', 'y', 'z'],
      ]);
    });

    it('should filter namespaces by prefix', async () => {
      await store().put(['a', 'b', 'c'], '1', { value: 1 });
      await store().put(['a', 'b', 'd'], '2', { value: 2 });
      await store().put(['x', 'y', 'z'], '3', { value: 3 });
      const result = await store().listNamespaces({ prefix: ['a'] });
      expect(result).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'd'],
      ]);
    });

    it('should apply maxDepth to listNamespaces results', async () => {
      await store().put(['a', 'b', 'c'], '1', { value: 1 });
      await store().put(['a', 'b', 'd'], '2', { value: 2 });
      await store().put(['x', 'y', 'z'], '3', { value: 3 });
      const result = await store().listNamespaces({ maxDepth: 2 });
      expect(result).toEqual([
        ['a', 'b'],
        ['x', 'y'],
      ]);
    });

    it('Should block invalid namespaces in put', async () => {
      const doc = { foo: 'bar' };
      await expect(store().put([], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
      await expect(store().put(['the', 'thing.about'], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
      await expect(store().put(['some', 'fun', ''], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
      await expect(store().put(['langgraph', 'foo'], 'bar', doc)).rejects.toThrow(InvalidNamespaceError);

      await store().put(['foo', 'langgraph', 'foo'], 'bar', doc);
      const result = await store().get(['foo', 'langgraph', 'foo'], 'bar');
      expect(result?.value).toEqual(doc);
      const searchResult = await store().search(['foo', 'langgraph', 'foo']);
      expect(searchResult[0].value).toEqual(doc);
      await store().delete(['foo', 'langgraph', 'foo'], 'bar');
      expect(await store().get(['foo', 'langgraph', 'foo'], 'bar')).toBeNull();

      await store().batch([{ namespace: ['langgraph', 'foo'], key: 'bar', value: doc }]);
      const batchResult = await store().get(['langgraph', 'foo'], 'bar');
      expect(batchResult?.value).toEqual(doc);
      const batchSearchResult = await store().search(['langgraph', 'foo']);
      expect(batchSearchResult[0].value).toEqual(doc);
      await store().delete(['langgraph', 'foo'], 'bar');
      expect(await store().get(['langgraph', 'foo'], 'bar')).toBeNull();
    });
  });

  describe(`${h.name}: ported from BaseStore's listNamespaces tests (libs/checkpoint/src/tests/store.test.ts)`, () => {
    const store = useFreshStore(h);
    beforeEach(async () => {
      for (const ns of [
        ['a', 'b', 'c'],
        ['a', 'b', 'd'],
        ['a', 'c', 'e'],
        ['x', 'y', 'z'],
      ]) {
        await store().put(ns, 'k', { v: ns.join('/') });
      }
    });

    it('should list all namespaces with default options', async () => {
      expect(await store().listNamespaces({})).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'd'],
        ['a', 'c', 'e'],
        ['x', 'y', 'z'],
      ]);
    });

    it('should filter namespaces by prefix', async () => {
      expect(await store().listNamespaces({ prefix: ['a'] })).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'd'],
        ['a', 'c', 'e'],
      ]);
    });

    it('should filter namespaces by suffix', async () => {
      expect(await store().listNamespaces({ suffix: ['d'] })).toEqual([['a', 'b', 'd']]);
    });

    it('should apply maxDepth to results', async () => {
      // AIMemo: duplicates that maxDepth makes are dropped, as InMemoryStore drops them (the original's mock keeps them).
      expect(await store().listNamespaces({ maxDepth: 2 })).toEqual([
        ['a', 'b'],
        ['a', 'c'],
        ['x', 'y'],
      ]);
    });

    it('should apply limit and offset', async () => {
      expect(await store().listNamespaces({ limit: 2, offset: 1 })).toEqual([
        ['a', 'b', 'd'],
        ['a', 'c', 'e'],
      ]);
    });

    it('should combine prefix, suffix, and maxDepth filters', async () => {
      expect(await store().listNamespaces({ prefix: ['a'], suffix: ['c'], maxDepth: 2 })).toEqual([['a', 'b']]);
    });

    it('should handle wildcard in prefix', async () => {
      expect(await store().listNamespaces({ prefix: ['a', '*', 'c'] })).toEqual([['a', 'b', 'c']]);
    });

    it('should handle wildcard in suffix', async () => {
      expect(await store().listNamespaces({ suffix: ['*', 'z'] })).toEqual([['x', 'y', 'z']]);
    });

    it('should return an empty array when no namespaces match', async () => {
      expect(await store().listNamespaces({ prefix: ['non', 'existent'] })).toEqual([]);
    });
  });

  describe(`${h.name}: ported from PostgresStore's tests (libs/checkpoint-postgres/src/tests/store.int.test.ts)`, () => {
    const store = useFreshStore(h);

    describe('Batch Operations', () => {
      it('should handle batch put and get operations', async () => {
        const results = await store().batch([
          { namespace: ['batch'], key: 'item1', value: { data: 'first' } },
          { namespace: ['batch'], key: 'item2', value: { data: 'second' } },
          { namespace: ['batch'], key: 'item1' },
        ]);
        expect(results).toHaveLength(3);
        expect(results[0]).toBeUndefined();
        expect(results[1]).toBeUndefined();
        expect(results[2]).toBeDefined();
        expect((results[2] as Item).value).toEqual({ data: 'first' });
      });

      it('should handle batch with mixed valid and invalid operations', async () => {
        await expect(
          store().batch([
            { namespace: ['batch'], key: 'item1', value: { data: 'first' } },
            { namespace: [], key: 'item2', value: { data: 'invalid' } },
            { namespace: ['batch'], key: 'item1' },
          ]),
        ).rejects.toThrow('Namespace cannot be empty');
        // AIMemo: the whole batch is checked first, so the valid put before the bad one did not happen either.
        expect(await store().get(['batch'], 'item1')).toBeNull();
      });
    });

    describe('CRUD Operations', () => {
      it('should store and retrieve a simple item', async () => {
        const namespace = ['crud', 'simple'];
        const value = { foo: 'bar', num: 42 };
        await store().put(namespace, 'item1', value);
        const item = await store().get(namespace, 'item1');
        expect(item).toBeDefined();
        expect(item?.namespace).toEqual(namespace);
        expect(item?.key).toBe('item1');
        expect(item?.value).toEqual(value);
        expect(item?.createdAt).toBeInstanceOf(Date);
        expect(item?.updatedAt).toBeInstanceOf(Date);
      });

      it('should update an existing item', async () => {
        const namespace = ['crud', 'update'];
        await store().put(namespace, 'item2', { foo: 'bar' });
        const originalItem = await store().get(namespace, 'item2');
        await store().put(namespace, 'item2', { foo: 'baz', extra: 123 });
        const updatedItem = await store().get(namespace, 'item2');
        expect(originalItem?.value).toEqual({ foo: 'bar' });
        expect(updatedItem?.value).toEqual({ foo: 'baz', extra: 123 });
        expect(updatedItem?.updatedAt.getTime()).toBeGreaterThan(originalItem?.updatedAt.getTime() || 0);
      });

      it('should delete an item', async () => {
        const namespace = ['crud', 'delete'];
        await store().put(namespace, 'item3', { toDelete: true });
        expect(await store().get(namespace, 'item3')).toBeDefined();
        await store().delete(namespace, 'item3');
        expect(await store().get(namespace, 'item3')).toBeNull();
      });

      it('should handle complex JSON values', async () => {
        const complexValue = {
          string: 'test',
          number: 42,
          boolean: true,
          null: null,
          array: [1, 2, 3, 'four'],
          nested: { deep: { value: 'nested data' } },
        };
        await store().put(['crud', 'complex'], 'item4', complexValue);
        expect((await store().get(['crud', 'complex'], 'item4'))?.value).toEqual(complexValue);
      });

      it('should return null for non-existent items', async () => {
        expect(await store().get(['crud', 'missing'], 'nope')).toBeNull();
      });

      it('should not allow empty namespace', async () => {
        await expect(store().put([], 'key', { foo: 'bar' })).rejects.toThrow('Namespace cannot be empty');
      });

      it('should not allow namespace labels with periods', async () => {
        await expect(store().put(['invalid.namespace'], 'key', { foo: 'bar' })).rejects.toThrow('Namespace labels cannot contain periods');
      });

      it('should not allow empty namespace label', async () => {
        await expect(store().put(['valid', ''], 'key', { foo: 'bar' })).rejects.toThrow('Namespace labels cannot be empty strings');
      });

      it('should not allow non-string namespace label', async () => {
        await expect(store().put(['valid', 123 as unknown as string], 'key', { foo: 'bar' })).rejects.toThrow('Namespace labels must be strings');
      });

      it('should not allow reserved namespace label', async () => {
        await expect(store().put(['langgraph'], 'key', { foo: 'bar' })).rejects.toThrow('Root label for namespace cannot be "langgraph"');
      });
    });

    describe('Namespace Listing', () => {
      beforeEach(async () => {
        await store().put(['docs', 'v1'], 'item1', { data: 'test' });
        await store().put(['docs', 'v2'], 'item2', { data: 'test' });
        await store().put(['cache', 'temp'], 'item3', { data: 'test' });
      });

      it('should list all namespaces', async () => {
        const namespaces = await store().listNamespaces();
        expect(namespaces.length).toBeGreaterThan(0);
        expect(namespaces).toContainEqual(['docs', 'v1']);
        expect(namespaces).toContainEqual(['docs', 'v2']);
        expect(namespaces).toContainEqual(['cache', 'temp']);
      });

      it('should list namespaces with prefix filter', async () => {
        const namespaces = await store().listNamespaces({ prefix: ['docs'] });
        expect(namespaces.length).toBe(2);
        expect(namespaces).toContainEqual(['docs', 'v1']);
        expect(namespaces).toContainEqual(['docs', 'v2']);
        expect(namespaces).not.toContainEqual(['cache', 'temp']);
      });
    });

    describe('Search', () => {
      beforeEach(async () => {
        await store().put(['docs'], 'doc1', {
          title: 'JavaScript Guide',
          content: 'Complete guide to JavaScript programming',
          category: 'programming',
          difficulty: 'beginner',
          tags: ['javascript', 'web', 'tutorial'],
        });
        await store().put(['docs'], 'doc2', {
          title: 'TypeScript Handbook',
          content: 'Advanced TypeScript programming techniques',
          category: 'programming',
          difficulty: 'intermediate',
          tags: ['typescript', 'javascript', 'types'],
        });
        await store().put(['docs'], 'doc3', {
          title: 'Python Basics',
          content: 'Introduction to Python programming language',
          category: 'programming',
          difficulty: 'beginner',
          tags: ['python', 'basics'],
        });
        await store().put(['recipes'], 'recipe1', {
          title: 'Chocolate Cake',
          content: 'Delicious chocolate cake recipe with detailed instructions',
          category: 'dessert',
          difficulty: 'easy',
          tags: ['chocolate', 'cake', 'baking'],
        });
      });

      it('should perform basic search with no options', async () => {
        const results = await store().search(['docs']);
        expect(Array.isArray(results)).toBe(true);
        expect(results.length).toBeGreaterThan(0);
        expect(results.every((item) => item.namespace[0] === 'docs')).toBe(true);
      });

      it('should search with simple filter', async () => {
        const results = await store().search(['docs'], { filter: { category: 'programming' } });
        expect(results.length).toBe(3);
        expect(results.every((item) => item.value.category === 'programming')).toBe(true);
      });

      it('should search with advanced filter operators', async () => {
        const results = await store().search(['docs'], { filter: { difficulty: { $eq: 'beginner' } } });
        expect(results.length).toBe(2);
        expect(results.every((item) => item.value.difficulty === 'beginner')).toBe(true);
      });

      it('should search with multiple filter conditions', async () => {
        const results = await store().search(['docs'], { filter: { category: 'programming', difficulty: { $ne: 'advanced' } } });
        expect(results.length).toBeGreaterThan(0);
        expect(results.every((item) => item.value.category === 'programming' && item.value.difficulty !== 'advanced')).toBe(true);
      });

      it('should search with $in operator', async () => {
        const results = await store().search(['docs'], { filter: { difficulty: { $in: ['beginner', 'intermediate'] } } });
        expect(results.length).toBe(3);
        expect(results.every((item) => ['beginner', 'intermediate'].includes(item.value.difficulty))).toBe(true);
      });

      it('should combine filtering with text search', async () => {
        const results = await store().search(['docs'], { query: 'guide', filter: { difficulty: 'beginner' } });
        expect(results.length).toBeGreaterThan(0);
        expect(results.every((item) => item.value.difficulty === 'beginner')).toBe(true);
        expect(results.some((item) => item.value.title.toLowerCase().includes('guide') || item.value.content.toLowerCase().includes('guide'))).toBe(true);
      });

      it('should apply limit and offset', async () => {
        const page1 = await store().search(['docs'], { limit: 2, offset: 0 });
        const page2 = await store().search(['docs'], { limit: 2, offset: 2 });
        expect(page1.length).toBeLessThanOrEqual(2);
        expect(page2.length).toBeGreaterThanOrEqual(0);
        const page2Keys = page2.map((item) => item.key);
        expect(page1.map((item) => item.key).filter((key) => page2Keys.includes(key))).toHaveLength(0);
      });

      it('should return empty array for non-existent namespace', async () => {
        expect(await store().search(['nonexistent'])).toEqual([]);
      });

      it('should support text search mode', async () => {
        // AIMemo: full-text search is the only mode (no `mode` option).
        const results = await store().search(['docs'], { query: 'JavaScript' });
        expect(results.length).toBeGreaterThan(0);
        expect(results.some((item) => item.value.title.includes('JavaScript') || item.value.content.includes('JavaScript'))).toBe(true);
      });

      it('should perform full-text search with auto mode defaulting to text', async () => {
        const results = await store().search(['docs'], { query: 'programming' });
        expect(results.length).toBeGreaterThan(0);
        expect(
          results.some((item) => item.value.title.includes('programming') || item.value.content.includes('programming') || item.value.category === 'programming'),
        ).toBe(true);
      });
    });
  });

  describe(`${h.name}: AIMemo`, () => {
    const store = useFreshStore(h);

    it('stores a value with no text and returns it deep-equal; a text search never finds it', async () => {
      const values = [{ n: 3 }, {}, { nested: { list: [1, 2, { ok: true }] }, nothing: null }, { blank: '   ' }, { dash: NO_TEXT }];
      for (const [i, value] of values.entries()) await store().put(['values'], `v${i}`, value);
      for (const [i, value] of values.entries()) expect((await store().get(['values'], `v${i}`))?.value).toEqual(value);
      expect((await store().search(['values'])).map((i) => i.key).sort()).toEqual(values.map((_, i) => `v${i}`));
      expect(await store().search(['values'], { query: '3' })).toEqual([]);
      expect(await store().search(['values'], { query: 'nested list ok true' })).toEqual([]);
    });

    it('searches the whole value’s strings by default, index fields when configured, nothing with index: false', async () => {
      await store().put(['idx'], 'all', { title: 'otter', body: { deep: ['beaver'] }, year: 2023 });
      expect((await store().search(['idx'], { query: 'beaver' })).map((i) => i.key)).toEqual(['all']);
      expect(await store().search(['idx'], { query: '2023' })).toEqual([]); // strings only
      await store().put(['idx'], 'fields', { title: 'heron', body: 'walrus', year: 1999 }, ['body', 'year']);
      expect(await store().search(['idx'], { query: 'heron' })).toEqual([]);
      expect((await store().search(['idx'], { query: 'walrus 1999' })).map((i) => i.key)).toEqual(['fields']);
      await store().put(['idx'], 'off', { title: 'narwhal' }, false);
      expect(await store().search(['idx'], { query: 'narwhal' })).toEqual([]);
      expect((await store().get(['idx'], 'off'))?.value).toEqual({ title: 'narwhal' });

      const titled = new AIMemoStore(store().memoryStore, { index: { fields: ['title', 'chapters[*].text', 'authors[-1].name'] } });
      await titled.put(['idx2'], 'book', { title: 'Ferns', summary: 'moss', chapters: [{ text: 'lichen' }, { text: 'algae' }], authors: [{ name: 'Ada' }, { name: 'Grace' }] });
      for (const word of ['ferns', 'lichen', 'algae', 'grace']) expect((await titled.search(['idx2'], { query: word })).map((i) => i.key)).toEqual(['book']);
      for (const word of ['moss', 'ada']) expect(await titled.search(['idx2'], { query: word })).toEqual([]);
    });

    it('keeps createdAt and moves updatedAt forward on every put', async () => {
      await store().put(['t'], 'k', { v: 1 });
      const first = (await store().get(['t'], 'k'))!;
      await store().batch([
        { namespace: ['t'], key: 'k', value: { v: 2 } },
        { namespace: ['t'], key: 'k', value: { v: 3 } },
      ]);
      const second = (await store().get(['t'], 'k'))!;
      expect(second.value).toEqual({ v: 3 });
      expect(second.createdAt).toEqual(first.createdAt);
      expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
      await store().delete(['t'], 'k');
      await store().put(['t'], 'k', { v: 4 });
      expect((await store().get(['t'], 'k'))!.createdAt.getTime()).toBeGreaterThanOrEqual(second.updatedAt.getTime());
    });

    it('applies a batch in order: reads see earlier writes, the last write to a key wins', async () => {
      const results = await store().batch([
        { namespace: ['o'], key: 'a', value: { n: 1 } },
        { namespace: ['o'], key: 'a' },
        { namespace: ['o'], key: 'a', value: null },
        { namespace: ['o'], key: 'a' },
        { namespace: ['o'], key: 'b', value: { n: 2 } },
        { namespace: ['o'], key: 'b', value: null },
        { namespace: ['o'], key: 'b', value: { n: 3 } },
        { namespacePrefix: ['o'], limit: 10, offset: 0 },
        { matchConditions: undefined, limit: 10, offset: 0 },
      ]);
      expect((results[1] as Item).value).toEqual({ n: 1 });
      expect(results[3]).toBeNull();
      expect((results[7] as Item[]).map((i) => [i.key, i.value])).toEqual([['b', { n: 3 }]]);
      expect(results[8]).toEqual([['o']]);
    });

    it('never lets a prefix reach a look-alike namespace (no LIKE: _ and % are plain)', async () => {
      // (LangGraph's get and search refuse labels with '.' or ':' and empty ones before the store sees them: see the next test.)
      const labels = ['a', 'ab', 'a_b', 'aXb', 'a%', 'a%b', 'a\\', 'a\\b', 'a/b', 'a b', 'A'];
      for (const label of labels) await store().batch([{ namespace: [label, 'm'], key: 'k', value: { text: `marmot in ${label}` } }]);
      for (const label of labels) {
        expect((await store().search([label])).map((i) => i.namespace)).toEqual([[label, 'm']]);
        expect((await store().search([label], { query: 'marmot' })).map((i) => i.namespace)).toEqual([[label, 'm']]);
        expect(await store().listNamespaces({ prefix: [label] })).toEqual([[label, 'm']]);
      }
      expect(await store().listNamespaces({ prefix: ['a', '*'] })).toEqual([['a', 'm']]);
      expect(await store().listNamespaces({ suffix: ['m'] })).toHaveLength(labels.length);
      expect((await store().search([], { query: 'marmot', limit: 100 })).length).toBe(labels.length);
    });

    it('ranks a query across the prefix with scores in [0, 1], best first, paged by offset', async () => {
      await store().put(['u', '1', 'notes'], 'n1', { text: 'the user likes hiking in the alps' });
      await store().put(['u', '1', 'prefs'], 'p1', { text: 'hiking boots size 44, hiking poles' });
      await store().put(['u', '2', 'notes'], 'n2', { text: 'hiking is what user two likes too' });
      const hits = await store().search(['u', '1'], { query: 'hiking boots' });
      expect(hits.map((i) => i.key)).toEqual(['p1', 'n1']);
      for (const hit of hits) expect(hit.score).toBeGreaterThan(0);
      for (const hit of hits) expect(hit.score).toBeLessThanOrEqual(1);
      expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score!);
      expect((await store().search(['u', '1'], { query: 'hiking boots', offset: 1 })).map((i) => i.key)).toEqual(['n1']);
      expect((await store().search(['u'], { query: 'hiking', limit: 10 })).map((i) => i.key).sort()).toEqual(['n1', 'n2', 'p1']);
    });

    it('filters on value fields: typed, nested, arrays, $or, $exists, ranges; unknown operators refused', async () => {
      await store().put(['f'], 'a', { n: 1, s: '1', nested: { lang: 'ts', level: 3 }, tags: ['x', 'y'], text: 'alpha otter' });
      await store().put(['f'], 'b', { n: 2, s: '2', nested: { lang: 'py', level: 1 }, tags: ['y'], text: 'beta otter' });
      await store().put(['f'], 'c', { n: 3, text: 'gamma otter' });
      const keys = async (filter: Record<string, unknown>, query?: string) => (await store().search(['f'], { filter, query, limit: 10 })).map((i) => i.key).sort();
      expect(await keys({ n: 1 })).toEqual(['a']);
      expect(await keys({ n: '1' })).toEqual([]); // typed: 1 is not '1'
      expect(await keys({ s: '1' })).toEqual(['a']);
      expect(await keys({ nested: { lang: 'ts' } })).toEqual(['a']);
      expect(await keys({ 'nested.level': { $gte: 1, $lt: 3 } })).toEqual(['b']);
      expect(await keys({ tags: ['y'] })).toEqual(['a', 'b']);
      expect(await keys({ tags: ['x', 'y'] })).toEqual(['a']);
      expect(await keys({ $or: [{ n: 3 }, { s: '2' }] })).toEqual(['b', 'c']);
      expect(await keys({ s: { $exists: false } })).toEqual(['c']);
      expect(await keys({ n: { $nin: [1, 2] } })).toEqual(['c']);
      expect(await keys({ n: { $gt: 1 } }, 'otter')).toEqual(['b', 'c']);
      expect(await keys({})).toEqual(['a', 'b', 'c']);
      for (const [filter, field] of [
        [{ n: { $gtt: 1 } }, 'operations[0].filter.n.$gtt'],
        [{ n: { $gt: 1, lang: 'x' } }, 'operations[0].filter.n'],
        [{ $nor: [] }, 'operations[0].filter.$nor'],
        [{ tags: [] }, 'operations[0].filter.tags'],
      ] as const) {
        const error = await store()
          .batch([{ namespacePrefix: ['f'], filter, limit: 10, offset: 0 }])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).field).toBe(field);
      }
    });

    it('stores labels LangGraph’s put refuses when they come through batch, and any key', async () => {
      const odd = [['a.b', 'c:d'], [''], ['\u001f', '\u001e'], ['x', '', 'y'], [' ', '😀']];
      for (const ns of odd) await store().batch([{ namespace: ns, key: 'k', value: { ns: ns.join('|') } }]);
      // LangGraph's get() refuses these labels itself; batch() reaches the store.
      for (const ns of odd) expect(((await store().batch([{ namespace: ns, key: 'k' }]))[0] as Item | null)?.value).toEqual({ ns: ns.join('|') });
      for (const ns of odd) expect(((await store().batch([{ namespacePrefix: ns, limit: 10, offset: 0 }]))[0] as Item[]).map((i) => i.namespace)).toEqual([ns]);
      const listed = await store().listNamespaces({ limit: 100 });
      for (const ns of odd) expect(listed).toContainEqual(ns);
    });

    it('refuses what it cannot store with a typed error, before writing anything', async () => {
      const refuse = async (ops: Parameters<AIMemoStore['batch']>[0], field: string) => {
        const error = await store()
          .batch(ops)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).field).toBe(field);
      };
      await refuse([{ namespace: ['ok'], key: 'k', value: { at: new Date() } as never }], 'operations[0].value.at');
      await refuse([{ namespace: ['ok'], key: 'k', value: { big: 'x'.repeat(70_000) } }], 'operations[0].value');
      await refuse([{ namespace: ['ok'], key: 'k', value: 'text' as never }], 'operations[0].value');
      await refuse([{ namespace: ['ok'], key: '', value: {} }], 'operations[0].key');
      await refuse([{ namespace: ['ok\u0000'], key: 'k', value: {} }], 'operations[0].namespace[0]');
      await refuse([{ namespace: ['x'.repeat(300)], key: 'k', value: {} }], 'operations[0].namespace');
      await refuse([{ namespacePrefix: ['ok'], query: 'x', limit: 0, offset: 0 }], 'operations[0].limit');
      await refuse(
        [
          { namespace: ['ok'], key: 'k', value: { fine: true } },
          { namespacePrefix: ['ok'], limit: 10, offset: -1 },
        ],
        'operations[1].offset',
      );
      expect(await store().listNamespaces()).toEqual([]);
    });
  });

  describe(`${h.name}: the same answers as InMemoryStore where both define them`, () => {
    const store = useFreshStore(h);
    it('get, put, delete, listNamespaces and search without a query agree (as sets) on a generated workload', async () => {
      const reference = new InMemoryStore();
      const namespaces = [['a'], ['a', 'b'], ['a', 'b', 'c'], ['ab'], ['x', 'y']];
      let seed = 7;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let step = 0; step < 120; step++) {
        const ns = namespaces[rand(namespaces.length)];
        const key = `k${rand(6)}`;
        const op = rand(4);
        if (op === 0) {
          await store().delete(ns, key);
          await reference.delete(ns, key);
        } else {
          const value = { step, text: `value ${step}` };
          await store().put(ns, key, value);
          await reference.put(ns, key, value);
        }
      }
      const view = (items: Item[]) => items.map((i) => JSON.stringify([i.namespace, i.key, i.value])).sort();
      for (const ns of namespaces) {
        for (let k = 0; k < 6; k++) expect((await store().get(ns, `k${k}`))?.value).toEqual((await reference.get(ns, `k${k}`))?.value);
        expect(view(await store().search(ns, { limit: 100 }))).toEqual(view(await reference.search(ns, { limit: 100 })));
      }
      // InMemoryStore keeps listing a namespace whose items were all deleted; AIMemo lists namespaces that hold items.
      const held: string[][] = [];
      for (const ns of await reference.listNamespaces({ limit: 100 })) if ((await reference.search(ns, { limit: 1 })).some((i) => JSON.stringify(i.namespace) === JSON.stringify(ns))) held.push(ns);
      expect(await store().listNamespaces({ limit: 100 })).toEqual(held);
    });
  });
}
