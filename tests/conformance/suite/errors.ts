import { beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemoError, StoreClosedError, ValidationError, type Memory, type MemoryStore, type NewMemory } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

type Call = (store: MemoryStore, ns: string) => Promise<unknown>;

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

/** [description, call, field the error must name] */
const INVALID: [string, Call, string][] = [
  ['empty content', (s, ns) => s.save({ content: '', namespace: ns }), 'content'],
  ['white-space content', (s, ns) => s.save({ content: ' \n\t ', namespace: ns }), 'content'],
  ['non-string content', (s, ns) => s.save({ content: 42 as unknown as string, namespace: ns }), 'content'],
  ['content over the limit', (s, ns) => s.save({ content: 'x'.repeat(100_001), namespace: ns }), 'content'],
  ['content with NUL', (s, ns) => s.save({ content: 'a\u0000b', namespace: ns }), 'content'],
  ['content with a lone surrogate', (s, ns) => s.save({ content: 'a\ud800b', namespace: ns }), 'content'],
  ['empty namespace', (s) => s.save({ content: 'ok', namespace: '' }), 'namespace'],
  ['namespace of 256 characters', (s) => s.save({ content: 'ok', namespace: 'n'.repeat(256) }), 'namespace'],
  ['non-string namespace', (s) => s.save({ content: 'ok', namespace: 7 as unknown as string }), 'namespace'],
  ['BigInt in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { n: BigInt(1) as never } }), 'metadata.n'],
  ['a cycle in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: cyclic as never }), 'metadata.self'],
  ['a function in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { f: (() => 1) as never } }), 'metadata.f'],
  ['undefined in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { u: undefined as never } }), 'metadata.u'],
  ['NaN in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { x: [1, NaN] } }), 'metadata.x[1]'],
  ['a Date in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { d: new Date() as never } }), 'metadata.d'],
  ['metadata that is an array', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: [] as never }), 'metadata'],
  ['an empty tag', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: ['a', ''] }), 'tags[1]'],
  ['a tag that is a number', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: [1 as unknown as string] }), 'tags[0]'],
  ['tags that are a string', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: 'a' as unknown as string[] }), 'tags'],
  ['an empty id', (s, ns) => s.save({ content: 'ok', namespace: ns, id: '' }), 'id'],
  ['an invalid Date', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: new Date('nope') }), 'timestamp'],
  ['a timestamp that is a string', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: '2024-01-01' as unknown as Date }), 'timestamp'],
  ['a bad item in saveMany', (s, ns) => s.saveMany([{ content: 'fine', namespace: ns }, { content: 'ok', namespace: ns, tags: [''] }]), 'memories[1].tags[0]'],
  ['saveMany of a non-array', (s) => s.saveMany('nope' as never), 'memories'],
  ['a limit of 0', (s, ns) => s.search('x', { namespace: ns, limit: 0 }), 'options.limit'],
  ['a fractional limit', (s, ns) => s.list({ namespace: ns, limit: 1.5 }), 'options.limit'],
  ['a negative offset', (s, ns) => s.list({ namespace: ns, offset: -1 }), 'options.offset'],
  ['an unknown mode', (s, ns) => s.search('x', { namespace: ns, mode: 'some' as never }), 'options.mode'],
  ['a query that is not a string', (s, ns) => s.search(undefined as never, { namespace: ns }), 'query'],
  ['get with an empty id', (s, ns) => s.get('', ns), 'id'],
  ['clear without a namespace', (s) => s.clear(undefined as never), 'namespace'],

  // save: the memory itself
  ['a memory that is null', (s) => s.save(null as never), 'memory'],
  ['a memory that is a string', (s) => s.save('just text' as never), 'memory'],
  ['a memory that is an array', (s) => s.save([{ content: 'x' }] as never), 'memory'],
  ['a memory without content', (s, ns) => s.save({ namespace: ns } as never), 'content'],
  ['content that is null', (s, ns) => s.save({ content: null as never, namespace: ns }), 'content'],
  // save: namespace rules
  ['a namespace of spaces', (s) => s.save({ content: 'ok', namespace: '   ' }), 'namespace'],
  ['a namespace with NUL', (s) => s.save({ content: 'ok', namespace: 'a\u0000b' }), 'namespace'],
  ['a namespace with a lone surrogate', (s) => s.save({ content: 'ok', namespace: 'a\udc00' }), 'namespace'],
  ['a namespace that is null', (s) => s.save({ content: 'ok', namespace: null as never }), 'namespace'],
  // save: ids
  ['an id that is a number', (s, ns) => s.save({ content: 'ok', namespace: ns, id: 42 as never }), 'id'],
  ['an id of spaces', (s, ns) => s.save({ content: 'ok', namespace: ns, id: ' \t ' }), 'id'],
  ['an id of 256 characters', (s, ns) => s.save({ content: 'ok', namespace: ns, id: 'i'.repeat(256) }), 'id'],
  ['an id with NUL', (s, ns) => s.save({ content: 'ok', namespace: ns, id: 'a\u0000' }), 'id'],
  // save: metadata (not JSON, or too big)
  ['Infinity in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { x: Infinity } }), 'metadata.x'],
  ['a nested undefined in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { a: { b: [undefined as never] } } }), 'metadata.a.b[0]'],
  ['a Symbol in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { s: Symbol('x') as never } }), 'metadata.s'],
  ['a Map in metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { m: new Map() as never } }), 'metadata.m'],
  ['a class instance as metadata', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: new (class Meta {})() as never }), 'metadata'],
  ['metadata that is null', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: null as never }), 'metadata'],
  ['metadata that is a JSON string', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: '{"a":1}' as never }), 'metadata'],
  ['a metadata key with NUL', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { 'a\u0000': 1 } }), 'metadata key'],
  ['metadata over 64 KiB', (s, ns) => s.save({ content: 'ok', namespace: ns, metadata: { big: 'x'.repeat(65_536) } }), 'metadata'],
  ['a deep cycle in metadata', (s, ns) => {
    const a: Record<string, unknown> = { list: [] };
    (a.list as unknown[]).push({ back: a });
    return s.save({ content: 'ok', namespace: ns, metadata: a as never });
  }, 'metadata.list[0].back'],
  // save: tags
  ['101 tags', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }), 'tags'],
  ['a tag of 256 characters', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: ['ok', 't'.repeat(256)] }), 'tags[1]'],
  ['a tag of spaces', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: [' '] }), 'tags[0]'],
  ['a tag that is null', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: [null as never] }), 'tags[0]'],
  ['a tag with NUL', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: ['a\u0000'] }), 'tags[0]'],
  ['tags that are a Set', (s, ns) => s.save({ content: 'ok', namespace: ns, tags: new Set(['a']) as never }), 'tags'],
  // save: timestamps
  ['a timestamp that is a number', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: Date.now() as never }), 'timestamp'],
  ['a timestamp that is null', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: null as never }), 'timestamp'],
  ['a timestamp in the year 10000', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: new Date(Date.UTC(10000, 0, 1)) }), 'timestamp'],
  ['a timestamp before the year 1', (s, ns) => s.save({ content: 'ok', namespace: ns, timestamp: new Date(Date.UTC(-1, 0, 1)) }), 'timestamp'],
  // saveMany: the failing item is named by its index, and the valid ones before it are not written
  ['saveMany of null', (s) => s.saveMany(null as never), 'memories'],
  ['saveMany with a null item', (s, ns) => s.saveMany([{ content: 'fine', namespace: ns }, null as never]), 'memories[1]'],
  ['saveMany with huge content at index 2', (s, ns) => s.saveMany([{ content: 'a', namespace: ns }, { content: 'b', namespace: ns }, { content: 'x'.repeat(100_001), namespace: ns }]), 'memories[2].content'],
  ['saveMany with bad metadata at index 1', (s, ns) => s.saveMany([{ content: 'a', namespace: ns }, { content: 'b', namespace: ns, metadata: { n: NaN } }]), 'memories[1].metadata.n'],
  ['saveMany with a bad namespace at index 1', (s, ns) => s.saveMany([{ content: 'a', namespace: ns }, { content: 'b', namespace: '' }]), 'memories[1].namespace'],
  ['saveMany with an invalid Date at index 1', (s, ns) => s.saveMany([{ content: 'a', namespace: ns }, { content: 'b', namespace: ns, timestamp: new Date(NaN) }]), 'memories[1].timestamp'],
  // get
  ['get with an id that is a number', (s, ns) => s.get(7 as never, ns), 'id'],
  ['get with an id of 256 characters', (s, ns) => s.get('i'.repeat(256), ns), 'id'],
  ['get with an empty namespace', (s) => s.get('sentinel', ''), 'namespace'],
  ['get with a namespace of 256 characters', (s) => s.get('sentinel', 'n'.repeat(256)), 'namespace'],
  // delete: refused before anything is removed
  ['delete with an empty id', (s, ns) => s.delete('', ns), 'id'],
  ['delete with an id that is null', (s, ns) => s.delete(null as never, ns), 'id'],
  ['delete with a namespace of spaces', (s) => s.delete('sentinel', ' '), 'namespace'],
  ['delete with a namespace that is a number', (s) => s.delete('sentinel', 1 as never), 'namespace'],
  // search
  ['a query that is a number', (s, ns) => s.search(42 as never, { namespace: ns }), 'query'],
  ['a query that is null', (s, ns) => s.search(null as never, { namespace: ns }), 'query'],
  ['a search limit above 10,000', (s, ns) => s.search('x', { namespace: ns, limit: 10_001 }), 'options.limit'],
  ['a search limit of NaN', (s, ns) => s.search('x', { namespace: ns, limit: NaN }), 'options.limit'],
  ['a search limit of Infinity', (s, ns) => s.search('x', { namespace: ns, limit: Infinity }), 'options.limit'],
  ['a search limit that is a string', (s, ns) => s.search('x', { namespace: ns, limit: '5' as never }), 'options.limit'],
  ['a negative search limit', (s, ns) => s.search('x', { namespace: ns, limit: -1 }), 'options.limit'],
  ['a search namespace that is empty', (s) => s.search('x', { namespace: '' }), 'options.namespace'],
  ['search tags that are a string', (s, ns) => s.search('x', { namespace: ns, tags: 'a' as never }), 'options.tags'],
  ['an empty search tag', (s, ns) => s.search('x', { namespace: ns, tags: ['a', ''] }), 'options.tags[1]'],
  ['a mode in upper case', (s, ns) => s.search('x', { namespace: ns, mode: 'ALL' as never }), 'options.mode'],
  // list
  ['a list limit of 0', (s, ns) => s.list({ namespace: ns, limit: 0 }), 'options.limit'],
  ['a list limit of NaN', (s, ns) => s.list({ namespace: ns, limit: NaN }), 'options.limit'],
  ['a fractional offset', (s, ns) => s.list({ namespace: ns, offset: 1.5 }), 'options.offset'],
  ['an offset of NaN', (s, ns) => s.list({ namespace: ns, offset: NaN }), 'options.offset'],
  ['an offset that is a string', (s, ns) => s.list({ namespace: ns, offset: '1' as never }), 'options.offset'],
  ['an offset above 2^53', (s, ns) => s.list({ namespace: ns, offset: 2 ** 53 }), 'options.offset'],
  ['a list namespace with NUL', (s) => s.list({ namespace: 'a\u0000' }), 'options.namespace'],
  ['list tags with a number', (s, ns) => s.list({ namespace: ns, tags: [1 as never] }), 'options.tags[0]'],
  // count, clear, getAllMemories
  ['count with an empty namespace', (s) => s.count(''), 'namespace'],
  ['count with a namespace of 256 characters', (s) => s.count('n'.repeat(256)), 'namespace'],
  ['clear with an empty namespace', (s) => s.clear(''), 'namespace'],
  ['clear with a namespace of spaces', (s) => s.clear('  '), 'namespace'],
  ['clear with a namespace that is a number', (s) => s.clear(5 as never), 'namespace'],
  ['getAllMemories without a namespace', (s) => s.getAllMemories(undefined as never), 'namespace'],
  ['getAllMemories with an empty namespace', (s) => s.getAllMemories(''), 'namespace'],
  ['getAllMemories with a namespace of 256 characters', (s) => s.getAllMemories('n'.repeat(256)), 'namespace'],
];

/** Values exactly at each limit in LIMITS: accepted. */
const AT_THE_LIMITS: [string, (ns: string) => NewMemory][] = [
  ['content of 100,000 characters', (ns) => ({ content: 'c'.repeat(100_000), namespace: ns })],
  ['a namespace of 255 characters', () => ({ content: 'ok', namespace: `limits-${'n'.repeat(248)}` })],
  ['an id of 255 characters', (ns) => ({ content: 'ok', namespace: ns, id: 'i'.repeat(255) })],
  ['100 tags of 255 characters', (ns) => ({ content: 'ok', namespace: ns, tags: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(255, 't')) })],
  ['metadata of exactly 64 KiB as JSON', (ns) => ({ content: 'ok', namespace: ns, metadata: { big: 'x'.repeat(65_536 - '{"big":""}'.length) } })],
  ['timestamps in the years 1 and 9999', (ns) => ({ content: 'ok', namespace: ns, timestamp: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)) })],
];

export function errorsSuite(h: StoreHarness): void {
  describe(`${h.name}#errors`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('errors');
    let before = 0;
    let sentinel: Memory;
    beforeAll(async () => {
      // One memory the invalid calls must leave exactly as it is (save, delete and clear name it or its namespace).
      sentinel = await store().save({ id: 'sentinel', namespace: ns, content: 'sentinel that no invalid call may touch', tags: ['keep'], metadata: { k: 1 } });
      before = (await store().getTableStats()).totalMemories;
    });

    it.each(INVALID)('refuses %s, naming the field, writing nothing', async (_what, call, field) => {
      const error = await call(store(), ns).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toBeInstanceOf(AIMemoError);
      expect((error as ValidationError).code).toBe('VALIDATION');
      expect((error as ValidationError).field).toBe(field);
      expect((error as Error).message.startsWith(field)).toBe(true);
      expect((await store().getTableStats()).totalMemories).toBe(before);
      expect(await store().count(ns)).toBe(1);
      expect(await store().get('sentinel', ns)).toEqual(sentinel);
    });

    it('covers every MemoryStore method that takes input', () => {
      const called = new Set(INVALID.map(([, call]) => /s\.(\w+)\(/.exec(call.toString())?.[1]));
      expect([...called].sort()).toEqual(['clear', 'count', 'delete', 'get', 'getAllMemories', 'list', 'save', 'saveMany', 'search']);
    });

    it.each(AT_THE_LIMITS)('accepts %s (the limits are inclusive)', async (_what, memory) => {
      const m = memory(`${ns}-limits`);
      const saved = await store().save(m);
      expect(await store().get(saved.id, saved.namespace)).toEqual(saved);
      expect(await store().delete(saved.id, saved.namespace)).toBe(true);
      if (m.timestamp) {
        const early = await store().save({ ...m, timestamp: new Date('0001-01-01T00:00:00.000Z') });
        expect((await store().get(early.id, early.namespace))?.timestamp.toISOString()).toBe('0001-01-01T00:00:00.000Z');
        await store().delete(early.id, early.namespace);
      }
    });

    it('never echoes memory content in a message', async () => {
      const secret = 'SECRET-CONTENT-' + 'x'.repeat(100_001);
      const error = (await store().save({ content: secret, namespace: ns }).catch((e: Error) => e)) as Error;
      expect(error.message).not.toContain('SECRET');
    });

    it('refuses every call after close() with StoreClosedError', async () => {
      const own = await h.create();
      await own.save({ content: 'before close', namespace: ns });
      await own.close();
      await expect(own.count(ns)).rejects.toBeInstanceOf(StoreClosedError);
      await expect(own.search('close', { namespace: ns })).rejects.toBeInstanceOf(StoreClosedError);
      await own.close(); // idempotent
      await h.destroy(own);
      await store().clear(ns);
    });
  });
}
