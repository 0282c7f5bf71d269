/**
 * transfer(): SQLite → PostgreSQL and back (PGlite always, the server when
 * AIMEMO_TEST_PG_URL is set), verification, resuming after an interruption,
 * and custom stores on either side.
 */
import { describe, expect, it, jest } from '@jest/globals';
import {
  OperationAbortedError,
  SQLiteStore,
  TransferVerificationError,
  checksumNamespace,
  transfer,
  type Memory,
  type MemoryStore,
  type SqlStore,
  type TransferProgress,
} from '../../src';
import { uniqueNamespace } from '../helpers/temp';
import { sampleMemories, snapshot, useBackends, type Backend } from './backends';
import { MapStore } from './map-store';


const { sqlite, postgres } = useBackends('transfer');

/** A destination whose `saveMany` fails on the given call, as a lost connection would. */
function failingOn(store: MemoryStore, call: number): MemoryStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'saveMany') {
        return async (memories: Memory[]) => {
          if (++calls === call) throw new Error('connection lost (simulated)');
          return target.saveMany(memories);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function describeDirection(from: Backend, to: Backend): void {
  describe(`${to.name}#transfer from ${from.name}`, () => {
    it('copies the given namespaces with ids, timestamps, tags and metadata kept, and verifies them', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const [a, b, c] = [uniqueNamespace('tr-a'), uniqueNamespace('tr-b'), uniqueNamespace('tr-c')];
      await source.saveMany([...sampleMemories(a, 250), ...sampleMemories(b, 30), ...sampleMemories(c, 1)]);
      const events: TransferProgress[] = [];
      const result = await transfer(source, destination, { namespaces: [a, b, c], batchSize: 100, onProgress: (p) => events.push({ ...p }) });

      expect(result).toMatchObject({ read: 281, written: 281, skipped: 0, verified: true });
      expect(result.namespaces.map((n) => [n.namespace, n.read, n.written])).toEqual([[a, 250, 250], [b, 30, 30], [c, 1, 1]]);
      for (const n of result.namespaces) {
        expect(n.destination).toEqual(n.source);
        expect(await snapshot(destination, n.namespace)).toEqual(await snapshot(source, n.namespace));
      }
      const copy = events.filter((e) => e.phase === 'copy');
      expect(copy[copy.length - 1]).toMatchObject({ done: 281, total: 281, written: 281 });
      expect(events.some((e) => e.phase === 'verify' && e.done === 281)).toBe(true);
      // reads in batches, never the whole namespace at once
      const getAll = jest.spyOn(source, 'getAllMemories');
      await transfer(source, destination, { namespaces: [a] });
      expect(getAll).not.toHaveBeenCalled();
    });

    it('writes nothing the second time, and only what changed after that', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const ns = uniqueNamespace('tr-again');
      await source.saveMany(sampleMemories(ns, 120));
      await transfer(source, destination, { namespaces: [ns], batchSize: 50 });
      expect(await transfer(source, destination, { namespaces: [ns], batchSize: 50 })).toMatchObject({ read: 120, written: 0, skipped: 120, verified: true });

      await source.save({ ...sampleMemories(ns, 1, 7)[0], content: 'changed after the first transfer' });
      await source.save({ id: 'new-one', namespace: ns, content: 'added after the first transfer' });
      const third = await transfer(source, destination, { namespaces: [ns], batchSize: 50 });
      expect(third).toMatchObject({ read: 121, written: 2, skipped: 119, verified: true });
      expect((await destination.get('m-000007', ns))?.content).toBe('changed after the first transfer');
      // skipUnchanged: false rewrites everything, still without duplicates
      expect(await transfer(source, destination, { namespaces: [ns], skipUnchanged: false })).toMatchObject({ written: 121, verified: true });
      expect(await destination.count(ns)).toBe(121);
    });

    it('resumes after an interruption: whole batches kept, nothing duplicated', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const ns = uniqueNamespace('tr-resume');
      await source.saveMany(sampleMemories(ns, 1000));
      const controller = new AbortController();
      const first = transfer(source, destination, {
        namespaces: [ns],
        batchSize: 100,
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.written >= 300) controller.abort(new Error('Ctrl-C'));
        },
      });
      await expect(first).rejects.toBeInstanceOf(OperationAbortedError);
      const copied = await destination.count(ns);
      expect(copied).toBeGreaterThanOrEqual(300);
      expect(copied).toBeLessThan(1000);
      expect(copied % 100).toBe(0); // whole batches only

      const resumed = await transfer(source, destination, { namespaces: [ns], batchSize: 100 });
      expect(resumed).toMatchObject({ read: 1000, written: 1000 - copied, skipped: copied, verified: true });
      expect(await destination.count(ns)).toBe(1000);
    });

    it('resumes after a failed write, which leaves no half batch', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const ns = uniqueNamespace('tr-fail');
      await source.saveMany(sampleMemories(ns, 500));
      await expect(transfer(source, failingOn(destination, 3), { namespaces: [ns], batchSize: 100, concurrency: 1 })).rejects.toThrow(/connection lost/);
      expect(await destination.count(ns)).toBe(200);
      const resumed = await transfer(source, destination, { namespaces: [ns], batchSize: 100 });
      expect(resumed).toMatchObject({ written: 300, skipped: 200, verified: true });
    });

    it('copies every namespace of the source when none are given', async () => {
      const fresh: SqlStore = from.dialect === 'sqlite' ? new SQLiteStore(':memory:') : await from.open();
      const target: SqlStore = to.dialect === 'sqlite' ? new SQLiteStore(':memory:') : await to.open();
      try {
        const names = [uniqueNamespace('tr-all'), uniqueNamespace('tr-all')];
        await fresh.saveMany([...sampleMemories(names[0], 20), ...sampleMemories(names[1], 5)]);
        const result = await transfer(fresh, target);
        expect(result.verified).toBe(true);
        expect(result.namespaces.map((n) => n.namespace)).toEqual(expect.arrayContaining(names));
        expect(result.namespaces.map((n) => n.namespace).sort()).toEqual((await fresh.getAllNamespaces()).sort());
      } finally {
        if (from.dialect === 'sqlite') await fresh.close();
        if (to.dialect === 'sqlite') await target.close();
      }
    });

    it('fails verification when the destination holds memories the source does not', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const ns = uniqueNamespace('tr-extra');
      await source.saveMany(sampleMemories(ns, 10));
      await destination.save({ id: 'only-in-destination', namespace: ns, content: 'not in the source' });
      const error = await transfer(source, destination, { namespaces: [ns] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransferVerificationError);
      expect((error as TransferVerificationError).mismatches).toEqual([
        expect.objectContaining({ namespace: ns, source: expect.objectContaining({ count: 10 }), destination: expect.objectContaining({ count: 11 }) }),
      ]);
      expect((error as Error).message).toMatch(/destination holds memories the source does not/);
    });

    it('gives the same checksum on both sides however metadata keys are ordered', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const ns = uniqueNamespace('tr-sum');
      const memory = { id: 'k', namespace: ns, content: 'keys', timestamp: new Date(0) };
      await source.save({ ...memory, metadata: { b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } } });
      await destination.save({ ...memory, metadata: { a: { c: [3, { e: 5, f: 4 }], d: 2 }, b: 1 } });
      expect(await checksumNamespace(destination, ns)).toEqual(await checksumNamespace(source, ns));
    });
  });
}

for (const pg of postgres) {
  describeDirection(sqlite, pg);
  describeDirection(pg, sqlite);
}

describe('transfer and expiry', () => {
  it('carries expiresAt, leaves expired memories behind, and the checksums tell expiry apart', async () => {
    for (const pg of postgres) {
      const [source, destination] = [await sqlite.open(), await pg.open()];
      const ns = uniqueNamespace('tr-expiry');
      const expires = new Date(Date.UTC(2099, 5, 1));
      await source.saveMany([
        { id: 'k', namespace: ns, content: 'kept', expiresAt: expires },
        { id: 'x', namespace: ns, content: 'expired', expiresAt: new Date(Date.now() - 1000) },
      ]);
      expect(await transfer(source, destination, { namespaces: [ns] })).toMatchObject({ read: 1, written: 1, verified: true });
      expect((await destination.get('k', ns))!.expiresAt).toEqual(expires);
      expect(await destination.count(ns)).toBe(1);
      const before = await checksumNamespace(destination, ns);
      await destination.update('k', { expiresAt: null }, ns);
      const after = await checksumNamespace(destination, ns);
      expect(after.count).toBe(1);
      expect(after.checksum).not.toBe(before.checksum);
      await expect(transfer(destination, source, { namespaces: [ns], skipUnchanged: false, verify: true })).resolves.toMatchObject({ verified: true });
      expect((await source.get('k', ns))!.expiresAt).toBeUndefined();
    }
  });
});

describe('transfer with custom stores', () => {
  it('copies from a store without iterate (getAllMemories) and into one without getMany', async () => {
    const custom = new MapStore();
    const ns = uniqueNamespace('tr-custom');
    await custom.saveMany(sampleMemories(ns, 42));
    const store = await sqlite.open();
    expect(await transfer(custom, store, { batchSize: 10 })).toMatchObject({ read: 42, written: 42, verified: true });
    expect(custom.calls.getAllMemories).toBeGreaterThan(0);

    const back = new MapStore();
    const result = await transfer(store, back, { namespaces: [ns], batchSize: 10 });
    expect(result).toMatchObject({ read: 42, written: 42, verified: true });
    expect(back.calls.saveMany).toBe(5); // batches of 10, each one saveMany
    expect([...back.rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(await snapshot(store, ns));
  });

  it('refuses bad options before reading anything', async () => {
    const store = await sqlite.open();
    await expect(transfer(store, new MapStore(), { batchSize: 0 })).rejects.toThrow(/options\.batchSize must be a positive integer/);
    await expect(transfer(store, new MapStore(), { namespaces: [''] })).rejects.toThrow(/options\.namespaces\[0\]/);
    await expect(transfer(store, new MapStore(), { concurrency: 99 })).rejects.toThrow(/options\.concurrency/);
  });
});
