import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function saveSuite(h: StoreHarness): void {
  describe(`${h.name}#save`, () => {
    const store = useStore(h);

    it('fills in a UUID v7 id, the default namespace, the time, {} and []', async () => {
      const before = Date.now();
      const saved = await store().save({ content: 'a memory with defaults' });
      expect(saved.id).toMatch(UUID_V7);
      expect(saved.namespace).toBe('default');
      expect(saved.metadata).toEqual({});
      expect(saved.tags).toEqual([]);
      expect(saved.timestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(saved.timestamp.getTime()).toBeLessThanOrEqual(Date.now());
      expect(await store().get(saved.id)).toEqual(saved);
      await store().delete(saved.id);
    });

    it('round-trips every field exactly', async () => {
      const ns = uniqueNamespace();
      const memory = {
        id: 'custom-id-1',
        namespace: ns,
        content: 'Ünïcödé content with emoji 🙂, quotes \' " and a\nnew line',
        metadata: { source: 'chat', score: 0.5, count: 3, ok: true, none: null, nested: { list: [1, 'two', { three: 3 }] } },
        tags: ['b', 'a', 'b', 'c'],
        timestamp: new Date('2024-02-29T12:34:56.789Z'),
      };
      const saved = await store().save(memory);
      expect(saved).toEqual({ ...memory, tags: ['b', 'a', 'c'] });
      expect(await store().get('custom-id-1', ns)).toEqual(saved);
    });

    it('generates ids that sort by creation time', async () => {
      const ns = uniqueNamespace();
      const saved = await store().saveMany(Array.from({ length: 20 }, (_, i) => ({ content: `ordered ${i}`, namespace: ns })));
      const ids = saved.map((m) => m.id);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(20);
    });

    it('replaces a memory saved again under the same namespace and id', async () => {
      const ns = uniqueNamespace();
      await store().save({ id: 'same', namespace: ns, content: 'original walrus text', tags: ['old'] });
      await store().save({ id: 'same', namespace: ns, content: 'replacement penguin text', tags: ['new'] });
      expect(await store().count(ns)).toBe(1);
      const got = await store().get('same', ns);
      expect(got?.content).toBe('replacement penguin text');
      expect(got?.tags).toEqual(['new']);
      expect(await store().search('walrus', { namespace: ns })).toEqual([]);
      expect((await store().search('penguin', { namespace: ns })).map((r) => r.id)).toEqual(['same']);
    });

    it('keeps the same id in two namespaces apart', async () => {
      const a = uniqueNamespace();
      const b = uniqueNamespace();
      await store().save({ id: 'shared', namespace: a, content: 'in namespace a' });
      await store().save({ id: 'shared', namespace: b, content: 'in namespace b' });
      expect((await store().get('shared', a))?.content).toBe('in namespace a');
      expect((await store().get('shared', b))?.content).toBe('in namespace b');
      expect(await store().delete('shared', a)).toBe(true);
      expect(await store().get('shared', a)).toBeNull();
      expect((await store().get('shared', b))?.content).toBe('in namespace b');
    });

    it('returns null for an unknown id and false when deleting one', async () => {
      const ns = uniqueNamespace();
      expect(await store().get('missing', ns)).toBeNull();
      expect(await store().delete('missing', ns)).toBe(false);
    });

    it('deletes a memory from reads and from search', async () => {
      const ns = uniqueNamespace();
      const m = await store().save({ namespace: ns, content: 'ephemeral kangaroo' });
      expect(await store().delete(m.id, ns)).toBe(true);
      expect(await store().get(m.id, ns)).toBeNull();
      expect(await store().search('kangaroo', { namespace: ns })).toEqual([]);
      expect(await store().count(ns)).toBe(0);
    });

    it('saveMany returns the memories in input order and saves them all', async () => {
      const ns = uniqueNamespace();
      const saved = await store().saveMany([
        { content: 'first of many', namespace: ns, tags: ['x'] },
        { content: 'second of many', namespace: ns, metadata: { n: 2 } },
        { content: 'third of many', namespace: ns, id: 'third' },
      ]);
      expect(saved.map((m) => m.content)).toEqual(['first of many', 'second of many', 'third of many']);
      expect(saved[2].id).toBe('third');
      expect(await store().count(ns)).toBe(3);
      for (const m of saved) expect(await store().get(m.id, ns)).toEqual(m);
    });

    it('saveMany keeps the last of two memories with the same id, as saving one by one would', async () => {
      const ns = uniqueNamespace();
      await store().saveMany([
        { id: 'dup', content: 'first version', namespace: ns },
        { id: 'dup', content: 'second version', namespace: ns },
      ]);
      expect(await store().count(ns)).toBe(1);
      expect((await store().get('dup', ns))?.content).toBe('second version');
    });

    it('saveMany of nothing returns []', async () => {
      expect(await store().saveMany([])).toEqual([]);
    });

    it('saveMany writes batches larger than one INSERT', async () => {
      const ns = uniqueNamespace();
      const many = Array.from({ length: 2500 }, (_, i) => ({ content: `bulk memory number ${i}`, namespace: ns, id: `b${i}` }));
      await store().saveMany(many);
      expect(await store().count(ns)).toBe(2500);
      expect((await store().get('b2499', ns))?.content).toBe('bulk memory number 2499');
    });

    it('counts, clears one namespace and reports how many were removed', async () => {
      const ns = uniqueNamespace();
      const other = uniqueNamespace();
      await store().saveMany([1, 2, 3].map((i) => ({ content: `clear me ${i}`, namespace: ns })));
      await store().save({ content: 'keep me', namespace: other });
      expect(await store().count(ns)).toBe(3);
      expect(await store().clear(ns)).toBe(3);
      expect(await store().count(ns)).toBe(0);
      expect(await store().count(other)).toBe(1);
      expect(await store().clear(ns)).toBe(0);
    });

    it('reports table stats over every namespace', async () => {
      const ns = uniqueNamespace();
      const before = await store().getTableStats();
      await store().saveMany([
        { content: 'abcd', namespace: ns },
        { content: 'abcdefgh', namespace: ns },
      ]);
      const after = await store().getTableStats();
      expect(after.totalMemories).toBe(before.totalMemories + 2);
      expect(after.namespaces).toBe(before.namespaces + 1);
      const expectedAvg = (before.avgSize * before.totalMemories + 12) / (before.totalMemories + 2);
      expect(after.avgSize).toBeCloseTo(expectedAvg, 6);
    });
  });
}
