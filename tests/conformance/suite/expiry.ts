import { beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemo, ValidationError, type SqlStore } from '../../../src';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

const past = () => new Date(Date.now() - 60_000);
const future = () => new Date(Date.now() + 3_600_000);

/** Expiry: no read returns an expired memory; purging removes it, with its full-text entries. */
export function expirySuite(h: StoreHarness): void {
  describe(`${h.name}#expiry`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('expiry');
    const gone = uniqueNamespace('expiry-gone'); // only expired memories
    beforeAll(async () => {
      await store().saveMany([
        { id: 'live', namespace: ns, content: 'Alice: I started learning the violin', timestamp: new Date(Date.UTC(2026, 0, 1, 9, 0)) },
        { id: 'later', namespace: ns, content: 'Alice: my violin teacher is patient', expiresAt: future(), timestamp: new Date(Date.UTC(2026, 0, 1, 9, 1)) },
        { id: 'dead', namespace: ns, content: 'Alice: my violin bow broke, the teacher lent me one', expiresAt: past(), timestamp: new Date(Date.UTC(2026, 0, 1, 9, 2)), metadata: { kind: 'x' }, tags: ['t'] },
        { id: 'g1', namespace: gone, content: 'Alice: scratch violin note', expiresAt: past() },
      ]);
    });

    it('keeps expiresAt on the memory (absent when it never expires) and takes ttl in seconds', async () => {
      const later = await store().get('later', ns);
      expect(later!.expiresAt).toBeInstanceOf(Date);
      expect((await store().get('live', ns))!.expiresAt).toBeUndefined();
      expect('expiresAt' in (await store().get('live', ns))!).toBe(false);
      const before = Date.now();
      const saved = await store().save({ namespace: ns, content: 'scratch for a day', ttl: 86_400 });
      expect(saved.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 86_400_000);
      expect((await store().get(saved.id, ns))!.expiresAt).toEqual(saved.expiresAt);
      const [many] = await store().saveMany([{ namespace: ns, content: 'another scratch', ttl: 5 }]);
      expect(many.expiresAt!.getTime() - before).toBeGreaterThanOrEqual(5_000);
      await store().delete(saved.id, ns);
      await store().delete(many.id, ns);
    });

    it('get, getMany and delete treat an expired memory as absent', async () => {
      expect(await store().get('dead', ns)).toBeNull();
      const s = store() as SqlStore;
      if (typeof s.getMany === 'function') expect((await s.getMany(['live', 'dead', 'later'], ns)).map((m) => m.id)).toEqual(['live', 'later']);
    });

    it('search (both modes, with and without filters) never returns it', async () => {
      for (const mode of ['all', 'any'] as const) {
        expect((await store().search('violin', { namespace: ns, mode, limit: 10 })).map((m) => m.id).sort()).toEqual(['later', 'live']);
        expect(await store().search('bow broke', { namespace: ns, mode })).toEqual([]);
        expect(await store().search('violin', { namespace: ns, mode, tags: ['t'] })).toEqual([]);
        expect(await store().search('violin', { namespace: ns, mode, where: { kind: 'x' } })).toEqual([]);
        expect(await store().search('violin', { namespace: gone, mode })).toEqual([]);
      }
      // mode 'any' ranks neighbours in time: the expired one next to the best match is never pulled in
      const context = await store().search('Who lent Alice a bow for the violin?', { namespace: ns, mode: 'any', limit: 10 });
      expect(context.map((m) => m.id)).not.toContain('dead');
    });

    it('list, listPage, getAllMemories, iterate and count never count it', async () => {
      expect((await store().list({ namespace: ns })).map((m) => m.id)).toEqual(['later', 'live']);
      expect((await store().listPage({ namespace: ns, limit: 1 })).memories.map((m) => m.id)).toEqual(['later']);
      expect((await store().getAllMemories(ns)).map((m) => m.id)).toEqual(['later', 'live']);
      expect(await store().count(ns)).toBe(2);
      expect(await store().count({ namespace: ns, where: { kind: 'x' } })).toBe(0);
      expect(await store().count(gone)).toBe(0);
      const s = store() as SqlStore;
      if (typeof s.iterate === 'function') {
        const seen: string[] = [];
        for await (const batch of s.iterate(ns, { batchSize: 1 })) seen.push(...batch.map((m) => m.id));
        expect(seen.sort()).toEqual(['later', 'live']);
      }
    });

    it('namespaces, per-namespace counts and table stats leave it out', async () => {
      const namespaces = await store().getAllNamespaces();
      expect(namespaces).toContain(ns);
      expect(namespaces).not.toContain(gone);
      const s = store() as SqlStore;
      if (typeof s.countByNamespace === 'function') {
        const counts = await s.countByNamespace();
        expect(counts.find((c) => c.namespace === ns)?.count).toBe(2);
        expect(counts.find((c) => c.namespace === gone)).toBeUndefined();
      }
      const stats = await store().getTableStats();
      const all = await Promise.all(namespaces.map((n) => store().count(n)));
      expect(stats.totalMemories).toBe(all.reduce((a, b) => a + b, 0));
      expect(stats.namespaces).toBe(namespaces.length);
    });

    it('getContext never puts it in a prompt', async () => {
      const memo = new AIMemo({ store: store(), namespace: ns });
      const context = await memo.getContext('What happened to the violin bow?');
      expect(context).not.toContain('bow broke');
    });

    it('update and deleteMany do not see it; saving it again brings it back', async () => {
      expect(await store().update('dead', { content: 'revived?' }, ns)).toBeNull();
      expect(await store().deleteMany({ namespace: ns, ids: ['dead'] })).toBe(0);
      const other = uniqueNamespace('expiry-resave');
      await store().save({ id: 'x', namespace: other, content: 'phoenix', expiresAt: past() });
      expect(await store().get('x', other)).toBeNull();
      await store().save({ id: 'x', namespace: other, content: 'phoenix' });
      expect((await store().get('x', other))!.expiresAt).toBeUndefined();
      expect((await store().search('phoenix', { namespace: other })).map((m) => m.id)).toEqual(['x']);
    });

    it('a memory expires at its expiresAt, not later', async () => {
      const soon = uniqueNamespace('expiry-soon');
      const m = await store().save({ namespace: soon, content: 'ephemeral', expiresAt: new Date(Date.now() + 400) });
      expect(await store().get(m.id, soon)).not.toBeNull();
      await new Promise((r) => setTimeout(r, 500));
      expect(await store().get(m.id, soon)).toBeNull();
      expect(await store().search('ephemeral', { namespace: soon })).toEqual([]);
    });

    it('purgeExpired deletes expired memories in every namespace with their index entries, and counts them', async () => {
      const p1 = uniqueNamespace('purge-a');
      const p2 = uniqueNamespace('purge-b');
      await store().saveMany([
        ...Array.from({ length: 7 }, (_, i) => ({ id: `e${i}`, namespace: p1, content: `quokka expired ${i}`, expiresAt: past() })),
        { id: 'e', namespace: p2, content: 'quokka expired too', expiresAt: past() },
        { id: 'k', namespace: p2, content: 'quokka kept', expiresAt: future() },
      ]);
      const purged = await store().purgeExpired();
      expect(purged).toBeGreaterThanOrEqual(8); // other suites' expired memories may go too
      expect(await store().purgeExpired()).toBe(0);
      expect((await store().search('quokka', { namespace: p2 })).map((m) => m.id)).toEqual(['k']);
      // saved again without expiry: nothing of the old row is left to shadow it
      await store().save({ id: 'e0', namespace: p1, content: 'quokka back' });
      expect((await store().search('quokka', { namespace: p1 })).map((m) => m.id)).toEqual(['e0']);
    });

    it('optimize() purges too, and says how many', async () => {
      const o = uniqueNamespace('purge-opt');
      await store().saveMany([1, 2, 3].map((i) => ({ id: `o${i}`, namespace: o, content: 'optimize me', expiresAt: past() })));
      const s = store() as SqlStore;
      if (typeof s.optimize !== 'function') return;
      const { steps } = await s.optimize();
      expect(steps[0].step).toMatch(/expires_at/);
      expect(steps[0].result!.deleted).toBeGreaterThanOrEqual(3);
      expect(await s.purgeExpired()).toBe(0);
    });

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['a negative ttl', { ttl: -1 }, /^ttl must be a whole number of seconds from 1 to 3153600000/],
      ['a ttl of 0', { ttl: 0 }, /^ttl must be/],
      ['a ttl past 100 years', { ttl: 3_153_600_001 }, /^ttl must be/],
      ['a string ttl', { ttl: '60' }, /^ttl must be/],
      ['ttl and expiresAt', { ttl: 60, expiresAt: future() }, /^ttl cannot be given with expiresAt/],
      ['an invalid expiresAt', { expiresAt: new Date(NaN) }, /^expiresAt must be a valid Date/],
      ['an expiresAt string', { expiresAt: '2030-01-01' }, /^expiresAt must be a valid Date/],
    ])('save refuses %s, writing nothing', async (_label, fields, message) => {
      const bad = uniqueNamespace('expiry-bad');
      await expect(store().save({ namespace: bad, content: 'x', ...fields } as never)).rejects.toThrow(message);
      await expect(store().saveMany([{ namespace: bad, content: 'ok' }, { namespace: bad, content: 'x', ...fields } as never])).rejects.toThrow(ValidationError);
      expect(await store().count(bad)).toBe(0);
    });
  });
}

