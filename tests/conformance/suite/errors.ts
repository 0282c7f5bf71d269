import { beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemoError, StoreClosedError, ValidationError, type MemoryStore } from '../../../src';
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
];

export function errorsSuite(h: StoreHarness): void {
  describe(`${h.name}#errors`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('errors');
    let before = 0;
    beforeAll(async () => {
      before = (await store().getTableStats()).totalMemories;
    });

    it.each(INVALID)('refuses %s, naming the field, writing nothing', async (_what, call, field) => {
      const error = await call(store(), ns).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toBeInstanceOf(AIMemoError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as Error).message.startsWith(field)).toBe(true);
      expect((await store().getTableStats()).totalMemories).toBe(before);
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
