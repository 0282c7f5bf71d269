import { beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationError, type MemoryPatch } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** update(id, patch, namespace): in place, in one transaction, the full-text index following. */
export function updateSuite(h: StoreHarness): void {
  describe(`${h.name}#update`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('update');
    const then = new Date(Date.UTC(2025, 5, 1));
    beforeAll(async () => {
      await store().save({
        id: 'u1',
        namespace: ns,
        content: 'The kangaroo project starts in March',
        tags: ['project'],
        metadata: { status: 'draft', owner: { name: 'ada', team: 'core' }, keep: 1 },
        timestamp: then,
      });
    });

    it('changes the content and the full-text index with it, keeping everything else', async () => {
      const updated = await store().update('u1', { content: 'The wombat project starts in April' }, ns);
      expect(updated).toMatchObject({ id: 'u1', namespace: ns, content: 'The wombat project starts in April', tags: ['project'] });
      expect(updated!.timestamp).toEqual(then);
      expect(await store().get('u1', ns)).toEqual(updated);
      expect(await store().search('kangaroo', { namespace: ns })).toEqual([]);
      expect((await store().search('wombat', { namespace: ns })).map((m) => m.id)).toEqual(['u1']);
      expect((await store().search('wombat april', { namespace: ns, mode: 'any' })).map((m) => m.id)).toEqual(['u1']);
    });

    it('merges metadata (RFC 7396): keys set, objects merged, null deletes', async () => {
      const updated = await store().update('u1', { metadata: { status: 'done', owner: { team: null, since: 2024 }, keep: null, added: [1, 2] } }, ns);
      expect(updated!.metadata).toEqual({ status: 'done', owner: { name: 'ada', since: 2024 }, added: [1, 2] });
      expect((await store().get('u1', ns))!.metadata).toEqual(updated!.metadata);
      expect(await store().count({ namespace: ns, where: { status: 'done', 'owner.since': { $gte: 2024 } } })).toBe(1);
      expect(await store().count({ namespace: ns, where: { keep: { $exists: true } } })).toBe(0);
    });

    it('replaces tags', async () => {
      const updated = await store().update('u1', { tags: ['a', 'b', 'a'] }, ns);
      expect(updated!.tags).toEqual(['a', 'b']);
      expect((await store().list({ namespace: ns, tags: ['b'] })).map((m) => m.id)).toEqual(['u1']);
      expect(await store().list({ namespace: ns, tags: ['project'] })).toEqual([]);
    });

    it("keeps the timestamp unless asked: 'now' refreshes it, a Date sets it", async () => {
      const before = Date.now();
      const fresh = await store().update('u1', { timestamp: 'now' }, ns);
      expect(fresh!.timestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(fresh!.timestamp.getTime()).toBeLessThanOrEqual(Date.now());
      const set = await store().update('u1', { timestamp: then }, ns);
      expect(set!.timestamp).toEqual(then);
      expect((await store().get('u1', ns))!.timestamp).toEqual(then);
    });

    it('sets and clears the expiry', async () => {
      const later = new Date(Date.now() + 3_600_000);
      expect((await store().update('u1', { expiresAt: later }, ns))!.expiresAt).toEqual(later);
      expect((await store().get('u1', ns))!.expiresAt).toEqual(later);
      const ttl = await store().update('u1', { ttl: 60 }, ns);
      expect(ttl!.expiresAt!.getTime() - Date.now()).toBeGreaterThan(55_000);
      const never = await store().update('u1', { expiresAt: null }, ns);
      expect(never!.expiresAt).toBeUndefined();
      expect((await store().get('u1', ns))!.expiresAt).toBeUndefined();
    });

    it('returns null for a memory that is not there (or in another namespace), writing nothing', async () => {
      expect(await store().update('nope', { content: 'x' }, ns)).toBeNull();
      expect(await store().update('u1', { content: 'x' }, uniqueNamespace())).toBeNull();
      expect(await store().get('nope', ns)).toBeNull();
    });

    it.each<[string, unknown, RegExp]>([
      ['an empty patch', {}, /^patch must change something/],
      ['an unknown field', { tag: ['x'] }, /^patch\.tag is not a field update changes/],
      ['empty content', { content: '' }, /^patch\.content must be a non-empty string/],
      ['blank content', { content: ' ' }, /^patch\.content must not be blank/],
      ['bad tags', { tags: [''] }, /^patch\.tags\[0\] must be a non-empty string/],
      ['bad metadata', { metadata: [1] }, /^patch\.metadata must be a plain JSON object/],
      ['a bad timestamp', { timestamp: 'yesterday' }, /^patch\.timestamp must be a Date or 'now'/],
      ['ttl with expiresAt', { ttl: 5, expiresAt: new Date() }, /^patch\.ttl cannot be given with expiresAt/],
      ['a fractional ttl', { ttl: 1.5 }, /^patch\.ttl must be a whole number of seconds/],
      ['not an object', 'content', /^patch must be an object/],
    ])('refuses %s, changing nothing', async (_label, patch, message) => {
      const before = await store().get('u1', ns);
      await expect(store().update('u1', patch as MemoryPatch, ns)).rejects.toThrow(message);
      expect(await store().get('u1', ns)).toEqual(before);
    });

    it('rolls back when the merged metadata grows past 64 KiB', async () => {
      const big = uniqueNamespace('update-big');
      await store().save({ id: 'b', namespace: big, content: 'big metadata', metadata: { a: 'x'.repeat(40_000) } });
      await expect(store().update('b', { content: 'changed', metadata: { b: 'y'.repeat(40_000) } }, big)).rejects.toThrow(ValidationError);
      const after = await store().get('b', big);
      expect(after!.content).toBe('big metadata');
      expect(Object.keys(after!.metadata)).toEqual(['a']);
      expect((await store().search('big', { namespace: big })).map((m) => m.id)).toEqual(['b']);
    });

    it('keeps a metadata key named __proto__ a key', async () => {
      const odd = uniqueNamespace('update-proto');
      await store().save({ id: 'p', namespace: odd, content: 'odd keys', metadata: JSON.parse('{"__proto__": {"x": 1}}') });
      const updated = await store().update('p', { metadata: JSON.parse('{"__proto__": {"y": 2}}') }, odd);
      expect(JSON.stringify(updated!.metadata)).toBe('{"__proto__":{"x":1,"y":2}}');
      expect(JSON.stringify((await store().get('p', odd))!.metadata)).toBe('{"__proto__":{"x":1,"y":2}}');
    });

    it('serialises concurrent updates of one memory: every merge is kept', async () => {
      const race = uniqueNamespace('update-race');
      await store().save({ id: 'r', namespace: race, content: 'counter', metadata: {} });
      await Promise.all(Array.from({ length: 8 }, (_, i) => store().update('r', { metadata: { [`k${i}`]: i } }, race)));
      expect(Object.keys((await store().get('r', race))!.metadata).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `k${i}`).sort());
    });
  });
}
