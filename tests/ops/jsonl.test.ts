/**
 * exportJsonl / importJsonl: the round trip across dialects (identical
 * memories), files with bad lines, bad files, gzip, and whole batches.
 */
import { describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { BadFileError, JSONL_FORMAT, SQLiteStore, exportJsonl, importJsonl } from '../../src';
import { tempDir, uniqueNamespace } from '../helpers/temp';
import { sampleMemories, snapshot, useBackends, type Backend } from './backends';


const { sqlite, postgres } = useBackends('jsonl');
const tmp = tempDir('jsonl-files');
let files = 0;
const file = (ext = 'jsonl') => tmp.file(`f${++files}.${ext}`);

/** A file of memory lines (and whatever else) for namespace `ns`. */
function writeLines(lines: unknown[]): string {
  const f = file();
  fs.writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return f;
}

function describeRoundTrip(from: Backend, to: Backend): void {
  describe(`${to.name}#import of an export from ${from.name}`, () => {
    it('gives back identical memories (plain and gzip)', async () => {
      const [source, destination] = [await from.open(), await to.open()];
      const [a, b] = [uniqueNamespace('rt-a'), uniqueNamespace('rt-b')];
      await source.saveMany([...sampleMemories(a, 130), ...sampleMemories(b, 7)]);
      for (const ext of ['jsonl', 'jsonl.gz']) {
        const f = file(ext);
        const exported = await exportJsonl(source, f, { namespaces: [a, b], batchSize: 50 });
        expect(exported).toMatchObject({ count: 137, namespaces: [{ namespace: a, count: 130 }, { namespace: b, count: 7 }] });
        const imported = await importJsonl(destination, f, { batchSize: 40 });
        expect(imported).toMatchObject({ imported: 137, rejected: 0, errors: [], lines: 138 });
        expect(await snapshot(destination, a)).toEqual(await snapshot(source, a));
        expect(await snapshot(destination, b)).toEqual(await snapshot(source, b));
      }
    });
  });
}

for (const pg of postgres) {
  describeRoundTrip(sqlite, pg);
  describeRoundTrip(pg, sqlite);
}

describe('expiry in JSON Lines (format version 2)', () => {
  it('writes expiresAt only on memories that expire, leaves expired ones out, and reads it back', async () => {
    const store = await sqlite.open();
    const ns = uniqueNamespace('exp-expiry');
    const expires = new Date(Date.UTC(2099, 0, 1, 12, 0, 0, 5));
    await store.saveMany([
      { id: 'a', namespace: ns, content: 'kept for good' },
      { id: 'b', namespace: ns, content: 'kept until 2099', expiresAt: expires },
      { id: 'c', namespace: ns, content: 'already expired', expiresAt: new Date(Date.now() - 1000) },
    ]);
    const f = file();
    expect(await exportJsonl(store, f, { namespaces: [ns] })).toMatchObject({ count: 2, namespaces: [{ namespace: ns, count: 2 }] });
    const lines = fs.readFileSync(f, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(1).map((l) => [l.id, l.expiresAt])).toEqual([
      ['a', undefined],
      ['b', '2099-01-01T12:00:00.005Z'],
    ]);
    expect(fs.readFileSync(f, 'utf8')).not.toContain('already expired');
    for (const pg of postgres) {
      const destination = await pg.open();
      expect(await importJsonl(destination, f)).toMatchObject({ imported: 2, rejected: 0 });
      expect((await destination.get('b', ns))!.expiresAt).toEqual(expires);
      expect((await destination.get('a', ns))!.expiresAt).toBeUndefined();
    }
  });

  it('reads version 1 files, and refuses a bad expiresAt by line', async () => {
    const store = await sqlite.open();
    const ns = uniqueNamespace('imp-expiry');
    const result = await importJsonl(
      store,
      writeLines([
        { format: JSONL_FORMAT, version: 1 },
        { id: 'v1', namespace: ns, content: 'a version 1 line' },
        { id: 'bad', namespace: ns, content: 'x', expiresAt: 'tomorrow' },
        { id: 'ok', namespace: ns, content: 'y', expiresAt: '2099-01-01T00:00:00Z' },
      ]),
    );
    expect(result).toMatchObject({ imported: 2, rejected: 1 });
    expect(result.errors).toEqual([{ line: 3, message: expect.stringMatching(/^expiresAt must be an ISO 8601 date and time/) }]);
    expect((await store.get('ok', ns))!.expiresAt).toEqual(new Date('2099-01-01T00:00:00Z'));
  });
});

describe('exportJsonl', () => {
  it('writes a versioned header, then one memory per line with ISO 8601 timestamps', async () => {
    const store = await sqlite.open();
    const ns = uniqueNamespace('ex');
    await store.saveMany(sampleMemories(ns, 3));
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => (text += d.toString()));
    const result = await exportJsonl(store, sink, { namespaces: [ns] });
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ format: JSONL_FORMAT, version: 2, source: 'sqlite', namespaces: [ns] });
    expect(lines[0].exportedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(lines.slice(1)).toEqual(
      sampleMemories(ns, 3).map((m) => ({
        namespace: ns,
        id: m.id,
        timestamp: m.timestamp.toISOString(),
        content: m.content,
        tags: m.tags,
        metadata: m.metadata,
        ...(m.expiresAt ? { expiresAt: m.expiresAt.toISOString() } : {}),
      })),
    );
    expect(result.count).toBe(3);
    expect(result.bytes).toBe(Buffer.byteLength(text));
  });

  it('compresses a .gz path and leaves no file behind when it fails', async () => {
    const store = await sqlite.open();
    const ns = uniqueNamespace('ex-gz');
    await store.saveMany(sampleMemories(ns, 5));
    const f = file('jsonl.gz');
    await exportJsonl(store, f, { namespaces: [ns] });
    expect(gunzipSync(fs.readFileSync(f)).toString().split('\n')[0]).toContain(JSON_FORMAT_TEXT);

    const controller = new AbortController();
    controller.abort();
    const aborted = file();
    await expect(exportJsonl(store, aborted, { signal: controller.signal })).rejects.toThrow(/aborted/);
    await expect(exportJsonl(store, tmp.file('no/such/dir.jsonl'))).rejects.toBeInstanceOf(BadFileError);
    expect(fs.existsSync(aborted)).toBe(false);
    expect(fs.readdirSync(tmp.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
const JSON_FORMAT_TEXT = `"format":"${JSONL_FORMAT}"`;

describe('importJsonl', () => {
  const header = { format: JSONL_FORMAT, version: 1 };
  const good = (ns: string, id: string) => ({ namespace: ns, id, timestamp: '2026-01-31T09:30:00.000Z', content: `good ${id}`, tags: ['t'], metadata: { k: 1 } });

  for (const backend of [sqlite, ...postgres]) {
    it(`${backend.name}: writes the valid lines and reports the bad ones by line number`, async () => {
      const store = await backend.open();
      const ns = uniqueNamespace('imp-bad');
      const f = writeLines([
        header, // 1
        good(ns, 'a'), // 2
        '{"namespace": "x", "content": ', // 3: not JSON
        { ...good(ns, 'b'), content: '' }, // 4
        good(ns, 'c'), // 5
        { ...good(ns, 'd'), timestamp: '31/01/2026' }, // 6
        { ...good(ns, 'e'), tag: 'typo' }, // 7
        '', // 8: blank, ignored
        { ...good(ns, 'f'), tags: ['ok', 7] }, // 9
        [good(ns, 'g')], // 10: an array
        { namespace: ns, content: 'no id, no timestamp' }, // 11
        { ...good(ns, 'h'), metadata: [] }, // 12
        { ...good(ns, 'i'), namespace: 'n'.repeat(256) }, // 13
        { ...good(ns, 'j'), timestamp: '2026-02-30T00:00:00Z' }, // 14: no such date
        { ...good(ns, 'k'), timestamp: '2026-01-31T11:30:00+02:00' }, // 15: an offset
      ]);
      const result = await importJsonl(store, f, { batchSize: 2 });
      expect(result.errors.map((e) => e.line)).toEqual([3, 4, 6, 7, 9, 10, 12, 13, 14]);
      expect(result.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/^not valid JSON/),
        'content must be a non-empty string; got an empty string',
        expect.stringMatching(/^timestamp must be an ISO 8601 date and time with a time zone/),
        expect.stringMatching(/^memory must have only the fields/),
        'tags[1] must be a non-empty string; got number',
        'memory must be a JSON object with a content string; got array',
        'metadata must be a plain JSON object; got array',
        expect.stringMatching(/^namespace must be a string of 1-255 characters/),
        expect.stringMatching(/no such date or time/),
      ]);
      expect(result).toMatchObject({ lines: 15, imported: 4, rejected: 9, filtered: 0 });
      const saved = await store.getAllMemories(ns);
      expect(saved.map((m) => m.content).sort()).toEqual(['good a', 'good c', 'good k', 'no id, no timestamp']);
      expect((await store.get('k', ns))?.timestamp.toISOString()).toBe('2026-01-31T09:30:00.000Z');
      expect(await store.get('b', ns)).toBeNull();
    });
  }

  it('refuses a bad file before writing anything', async () => {
    const store = await sqlite.open();
    const ns = uniqueNamespace('imp-file');
    await expect(importJsonl(store, writeLines([{ ...header, version: 3 }, good(ns, 'a')]))).rejects.toThrow(/format version 3; this aimemo reads versions 1-2/);
    await expect(importJsonl(store, writeLines([{ format: 'other', version: 1 }, good(ns, 'a')]))).rejects.toThrow(/not AIMemo JSON Lines: its header names another format/);
    await expect(importJsonl(store, writeLines(['SQLite format 3', good(ns, 'a')]))).rejects.toThrow(/line 1: is not AIMemo JSON Lines: the first line is not JSON/);
    await expect(importJsonl(store, tmp.file('missing.jsonl'))).rejects.toBeInstanceOf(BadFileError);
    await expect(importJsonl(store, tmp.dir)).rejects.toThrow(/is not a file/);
    const truncatedGzip = file('jsonl.gz');
    await exportJsonl(store, truncatedGzip);
    fs.writeFileSync(truncatedGzip, fs.readFileSync(truncatedGzip).subarray(0, 30));
    await expect(importJsonl(store, truncatedGzip)).rejects.toBeInstanceOf(BadFileError);
    expect(await store.count(ns)).toBe(0);
  });

  it('never leaves half a batch when the database refuses a row', async () => {
    const store = new SQLiteStore(':memory:');
    try {
      await store.ready();
      store.client!.exec(`CREATE TRIGGER poison BEFORE INSERT ON memories WHEN new.content = 'POISON' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
      const ns = uniqueNamespace('imp-atomic');
      const lines = Array.from({ length: 35 }, (_, i) => (i === 24 ? { ...good(ns, `m${i}`), content: 'POISON' } : good(ns, `m${i}`)));
      const outcome = await importJsonl(store, writeLines([header, ...lines]), { batchSize: 10 }).catch((e: unknown) => e);
      expect(outcome).toMatchObject({ message: expect.stringMatching(/poisoned row/) });
      expect(await store.count(ns)).toBe(20); // batches 1 and 2; none of batch 3
    } finally {
      await store.close();
    }
  });

  it('filters namespaces, renames into one, reads concatenated exports and streams, and checks only on a dry run', async () => {
    const store = await sqlite.open();
    const [a, b, into] = [uniqueNamespace('imp-a'), uniqueNamespace('imp-b'), uniqueNamespace('imp-into')];
    const f = writeLines([header, good(a, '1'), good(b, '2'), header, good(a, '3')]);
    expect(await importJsonl(store, f, { dryRun: true })).toMatchObject({ imported: 3, dryRun: true });
    expect(await store.count(a)).toBe(0);

    const result = await importJsonl(store, f, { namespaces: [a], namespace: into });
    expect(result).toMatchObject({ imported: 2, filtered: 1, namespaces: [{ namespace: into, count: 2 }] });
    expect((await store.getAllMemories(into)).map((m) => m.id).sort()).toEqual(['1', '3']);

    const stream = Readable.from([Buffer.from(`${JSON.stringify(header)}\r\n${JSON.stringify(good(b, 'x')).slice(0, 20)}`), Buffer.from(`${JSON.stringify(good(b, 'x')).slice(20)}\r\n`)]);
    expect(await importJsonl(store, stream)).toMatchObject({ imported: 1, rejected: 0 });
    expect(await store.get('x', b)).not.toBeNull();
  });
});
