/**
 * What the operations add to every SqlStore: iterate (keyset batches),
 * getMany, countByNamespace and optimize, on SQLite, PGlite and the server.
 */
import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../helpers/temp';
import { sampleMemories, useBackends } from './backends';


const { sqlite, postgres } = useBackends('store_ops');

for (const backend of [sqlite, ...postgres]) {
  describe(`${backend.name}#iterate`, () => {
    it('reads a namespace in batches, each memory once, in id order', async () => {
      const store = await backend.open();
      const [ns, other] = [uniqueNamespace('it'), uniqueNamespace('it')];
      await store.saveMany([...sampleMemories(ns, 1050), ...sampleMemories(other, 3)]);
      const sizes: number[] = [];
      const ids: string[] = [];
      for await (const batch of store.iterate(ns, { batchSize: 100 })) {
        sizes.push(batch.length);
        ids.push(...batch.map((m) => m.id));
      }
      expect(sizes).toEqual([...Array(10).fill(100), 50]);
      expect(ids).toEqual(sampleMemories(ns, 1050).map((m) => m.id)); // zero-padded ids: the same order in any collation
      expect(new Set(ids).size).toBe(1050);
      const exact: number[] = [];
      for await (const batch of store.iterate(other, { batchSize: 3 })) exact.push(batch.length);
      expect(exact).toEqual([3]);
      for await (const batch of store.iterate(uniqueNamespace('empty'))) throw new Error(`an empty namespace gave ${batch.length}`);
    });

    it('keeps going while the namespace is written to, returning no memory twice', async () => {
      const store = await backend.open();
      const ns = uniqueNamespace('it-live');
      await store.saveMany(sampleMemories(ns, 300));
      const seen = new Set<string>();
      let extra = 0;
      for await (const batch of store.iterate(ns, { batchSize: 50 })) {
        for (const m of batch) {
          expect(seen.has(m.id)).toBe(false);
          seen.add(m.id);
        }
        await store.save({ id: `z-added-${extra++}`, namespace: ns, content: 'added while iterating' }); // sorts after every m-…
      }
      expect(seen.size).toBeGreaterThanOrEqual(300);
    });

    it('refuses a bad namespace or batch size', async () => {
      const store = await backend.open();
      await expect(store.iterate('', {}).next()).rejects.toThrow(/namespace must be a string of 1-255/);
      await expect(store.iterate('x', { batchSize: 0 }).next()).rejects.toThrow(/options\.batchSize must be a positive integer of at most 100000/);
    });
  });

  describe(`${backend.name}#getMany`, () => {
    it('returns the memories with these ids, in the order asked, leaving out missing ones', async () => {
      const store = await backend.open();
      const ns = uniqueNamespace('gm');
      await store.saveMany(sampleMemories(ns, 20));
      await store.save({ id: 'm-000001', namespace: uniqueNamespace('gm-other'), content: 'another namespace' });
      const found = await store.getMany(['m-000005', 'nope', 'm-000001', 'm-000019'], ns);
      expect(found.map((m) => m.id)).toEqual(['m-000005', 'm-000001', 'm-000019']);
      expect(found[1]).toEqual(sampleMemories(ns, 2)[1]);
      expect(await store.getMany([], ns)).toEqual([]);
      await expect(store.getMany([''], ns)).rejects.toThrow(/ids\[0\] must be a string/);
    });
  });

  describe(`${backend.name}#countByNamespace`, () => {
    it('counts every namespace in one query', async () => {
      const store = await backend.open();
      const [a, b] = [uniqueNamespace('cn'), uniqueNamespace('cn')];
      await store.saveMany([...sampleMemories(a, 4), ...sampleMemories(b, 2)]);
      const counts = await store.countByNamespace();
      expect(counts).toEqual(expect.arrayContaining([{ namespace: a, count: 4 }, { namespace: b, count: 2 }]));
      expect(counts.map((c) => c.namespace)).toEqual(await store.getAllNamespaces());
    });
  });

  describe(`${backend.name}#optimize`, () => {
    it('runs while the application reads and writes, and says what it did', async () => {
      const store = await backend.open();
      const ns = uniqueNamespace('opt');
      await store.saveMany(sampleMemories(ns, 500));
      const work = Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 ? store.save({ namespace: ns, content: `written during optimize ${i}` }) : store.search('fastapi', { namespace: ns }),
        ),
      );
      const [result] = await Promise.all([store.optimize(), work]);
      const vacuumed = await store.optimize({ vacuum: true });
      expect(await store.count(ns)).toBe(515);
      expect((await store.search('optimize', { namespace: ns, limit: 100 })).length).toBe(15);
      const steps = (r: typeof result) => r.steps.map((s) => s.step);
      if (backend.dialect === 'sqlite') {
        expect(steps(result)).toEqual([
          'DELETE FROM memories WHERE expires_at <= ? (expired memories)',
          'index queued memories (memories_pending)',
          "INSERT INTO memories_fts(memories_fts) VALUES ('optimize')",
          'PRAGMA optimize',
          'PRAGMA wal_checkpoint(TRUNCATE)',
        ]);
        expect(steps(vacuumed)).toContain('VACUUM');
        expect(result.steps[1].result).toEqual({ indexed: expect.any(Number) });
        expect(result.steps[4].result).toEqual({ busy: expect.any(Number), log: expect.any(Number), checkpointed: expect.any(Number) });
      } else {
        const tables = ['memories', 'search_postings', 'search_terms', 'search_namespaces'];
        const purge = 'DELETE FROM "aimemo"."memories" WHERE expires_at <= $1 (expired memories)';
        const index = [purge, 'SELECT aimemo.search_index_backfill(NULL, 2000) -- until none is queued', 'SELECT aimemo.search_fold()'];
        expect(steps(result)).toEqual([...index, ...tables.map((t) => `ANALYZE "aimemo"."${t}"`)]);
        expect(steps(vacuumed)).toEqual([...index, ...tables.map((t) => `VACUUM (ANALYZE) "aimemo"."${t}"`)]);
      }
      expect(result.steps.every((s) => s.ms >= 0)).toBe(true);
      expect(result.steps[0].result).toEqual({ deleted: expect.any(Number) });
      await expect(store.optimize({ vacuum: 'yes' as never })).rejects.toThrow(/options\.vacuum must be a boolean/);
    });
  });
}
