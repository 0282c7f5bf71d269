/**
 * Issue 11, items 9-12: imports of hostile or broken files.
 *
 * - Item 9: one 100 MB line took 120 s and 650 MiB, and a 100 KB `.gz`
 *   holding one line ran past 200 s (line reading was quadratic and kept the
 *   line whole). Now lines are framed in bytes: a line over 2 MiB is refused
 *   with its number as soon as it passes the limit, in linear time, with
 *   memory bounded.
 * - Item 10: 1,500 valid lines and then a second header with another version
 *   wrote 1,000 rows before the BadFileError. Now the whole input is checked
 *   first (a stream is spooled to a temporary file): a refused file writes
 *   nothing.
 * - Item 11: `caf\xE9` was stored as `caf\uFFFD`. Now bytes that are not
 *   UTF-8 refuse the file, naming the line; content is never altered.
 * - Item 12: a line `{"content": "…", "x": hunter2}` produced
 *   `Unexpected token 'h', ..."x": hunter2}"`. Now messages name the line and
 *   the problem, never what the line holds (also through the CLI).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { BadFileError, JSONL_FORMAT, SQLiteStore, importJsonl } from '../../src';
import { leakedSecrets } from '../helpers/leaks';
import { requireBuild } from '../helpers/migrations';
import { tempDir, uniqueNamespace } from '../helpers/temp';

const tmp = tempDir('import-limits');
afterAll(() => tmp.cleanup());
let files = 0;
const header = { format: JSONL_FORMAT, version: 1 };
const line = (ns: string, i: number) => JSON.stringify({ namespace: ns, id: `m${i}`, content: `memory number ${i}` });

/** Writes `parts` (strings or buffers) to a new file, streaming, so a 100 MB file never sits in memory. */
async function fileOf(parts: Iterable<string | Buffer>, gzip = false): Promise<string> {
  const f = tmp.file(`f${++files}.jsonl${gzip ? '.gz' : ''}`);
  const source = Readable.from((function* () {
    for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
  })());
  if (gzip) await pipeline(source, createGzip(), fs.createWriteStream(f));
  else await pipeline(source, fs.createWriteStream(f));
  return f;
}

/** A line of `mb` megabytes of 'a' inside a content string, produced in 1 MB pieces. */
function* hugeLine(mb: number): Generator<string> {
  yield '{"content":"';
  const piece = 'a'.repeat(2 ** 20);
  for (let i = 0; i < mb; i++) yield piece;
  yield '"}\n';
}

describe('import: line length, time and memory are bounded (item 9)', () => {
  it('refuses a 100 MB line by its number, quickly, without holding it', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('huge');
    const f = await fileOf([`${JSON.stringify(header)}\n`, `${line(ns, 1)}\n`, ...hugeLine(100), `${line(ns, 2)}\n`]);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore)), 5);
    const error = await importJsonl(store, f).catch((e: unknown) => e);
    clearInterval(sampler);
    const ms = Date.now() - started;
    expect(error).toBeInstanceOf(BadFileError);
    expect(error).toMatchObject({ line: 3, message: expect.stringMatching(/line 3: is longer than 2 MiB/) });
    expect(await store.count(ns)).toBe(0); // refused whole: nothing before it was written either
    expect(ms).toBeLessThan(15_000);
    expect(peak).toBeLessThan(64 * 2 ** 20);
    await store.close();
  }, 60_000);

  it('refuses a small gzip file that expands to one 200 MB line, quickly', async () => {
    const store = new SQLiteStore(':memory:');
    const f = await fileOf([`${JSON.stringify(header)}\n`, ...hugeLine(200)], true);
    expect(fs.statSync(f).size).toBeLessThan(1024 * 1024);
    const started = Date.now();
    await expect(importJsonl(store, f)).rejects.toMatchObject({ line: 2, message: expect.stringMatching(/longer than 2 MiB/) });
    expect(Date.now() - started).toBeLessThan(20_000);
    await store.close();
  }, 60_000);

  it('reads a line split into thousands of chunks, and many lines, in linear time', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('chunks');
    const big = JSON.stringify({ namespace: ns, id: 'big', content: 'x'.repeat(90_000), metadata: { pad: 'y'.repeat(60_000) } });
    const pieces = Array.from({ length: Math.ceil(big.length / 7) }, (_, i) => Buffer.from(big.slice(i * 7, i * 7 + 7)));
    const lines = Array.from({ length: 50_000 }, (_, i) => `${line(ns, i)}\n`).join('');
    const started = Date.now();
    const result = await importJsonl(store, Readable.from([...pieces, Buffer.from(`\n${lines}`)]), { batchSize: 5000 });
    expect(result).toMatchObject({ imported: 50_001, rejected: 0 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await store.get('big', ns))?.content).toHaveLength(90_000);
    await store.close();
  }, 60_000);

  it('accepts a line just under the limit when it is a valid memory', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('edge');
    const content = '\u0001'.repeat(100_000); // every character escaped: the longest a content string gets
    const f = await fileOf([`${JSON.stringify({ namespace: ns, id: 'e', content, tags: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(255, '\u0002')) })}\n`]);
    expect(fs.statSync(f).size).toBeGreaterThan(700_000);
    expect(await importJsonl(store, f)).toMatchObject({ imported: 1 });
    await store.close();
  });
});

describe('import: a refused file writes nothing (item 10)', () => {
  it.each([
    ['a second header with a newer version after 1,500 lines', { format: JSONL_FORMAT, version: 99 }],
    ['a second header of another format after 1,500 lines', { format: 'other-format', version: 1 }],
  ])('%s: BadFileError naming the line, and not one row written (file and stream)', async (_what, bad) => {
    const store = new SQLiteStore(':memory:');
    for (const asStream of [false, true]) {
      const ns = uniqueNamespace('partial');
      const text = [JSON.stringify(header), ...Array.from({ length: 1500 }, (_, i) => line(ns, i)), JSON.stringify(bad), line(ns, 9999)].join('\n');
      const input = asStream ? Readable.from([Buffer.from(text)]) : await fileOf([text]);
      const error = await importJsonl(store, input, { batchSize: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadFileError);
      expect(error).toMatchObject({ line: 1502, message: expect.stringMatching(/nothing was written/) });
      expect(await store.count(ns)).toBe(0);
    }
    await store.close();
  });

  it('treats a record that carries a format key as a bad memory line, not a header, and imports the rest', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('format-key');
    const f = await fileOf([[JSON.stringify(header), line(ns, 1), JSON.stringify({ namespace: ns, content: 'has a format key', format: 'x' }), line(ns, 2)].join('\n')]);
    const result = await importJsonl(store, f);
    expect(result).toMatchObject({ imported: 2, rejected: 1, errors: [{ line: 3, message: expect.stringMatching(/must have only the fields/) }] });
    await store.close();
  });

  it('spools standard input to a private temporary file and removes it afterwards', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('spool');
    const before = fs.readdirSync(require('node:os').tmpdir()).filter((d: string) => d.startsWith('aimemo-import-')).length;
    const result = await importJsonl(store, Readable.from([Buffer.from(`${JSON.stringify(header)}\n${line(ns, 1)}\n`)]));
    expect(result.imported).toBe(1);
    expect(fs.readdirSync(require('node:os').tmpdir()).filter((d: string) => d.startsWith('aimemo-import-')).length).toBe(before);
    await store.close();
  });
});

describe('import: bytes that are not UTF-8 refuse the file (item 11)', () => {
  it.each([
    ['Latin-1 é in the content', Buffer.from('{"content":"caf\xe9 au lait"}', 'latin1')],
    ['a lone continuation byte', Buffer.from([...Buffer.from('{"content":"a'), 0x80, ...Buffer.from('b"}')])],
    ['an overlong encoding of /', Buffer.from([...Buffer.from('{"content":"'), 0xc0, 0xaf, ...Buffer.from('"}')])],
    ['a UTF-16 surrogate encoded in UTF-8', Buffer.from([...Buffer.from('{"content":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')])],
    ['a sequence cut short at the end of the file', Buffer.from([...Buffer.from('{"content":"ok"}\n{"content":"'), 0xe2, 0x82])],
  ])('%s: BadFileError naming the line, nothing written, never U+FFFD stored', async (_what, bad) => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('utf8');
    const f = await fileOf([`${JSON.stringify(header)}\n${line(ns, 1)}\n`, bad, Buffer.from(`\n${line(ns, 2)}\n`)]);
    const error = await importJsonl(store, f).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadFileError);
    expect((error as BadFileError).line).toBeGreaterThanOrEqual(3);
    expect((error as Error).message).toMatch(/is not UTF-8 text/);
    expect(await store.getTableStats()).toMatchObject({ totalMemories: 0 });
    await store.close();
  });

  it('skips a byte order mark before the first line, and reads valid UTF-8 of every length', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('utf8-ok');
    const f = await fileOf([`\uFEFF${JSON.stringify(header)}\n${JSON.stringify({ namespace: ns, id: 'u', content: 'café 東京 😀 \u{10FFFF}' })}\n`]);
    expect(await importJsonl(store, f)).toMatchObject({ imported: 1 });
    expect((await store.get('u', ns))?.content).toBe('café 東京 😀 \u{10FFFF}');
    await store.close();
  });
});

describe('import errors name the line and the problem, never its content (item 12)', () => {
  const SECRETS = ['hunter2', 'sk-live-0000', '1980-01-01T00:00:00', 'password-key'];
  const lines = [
    JSON.stringify(header),
    '{"content": "my password is hunter2", "x": hunter2}', // not JSON
    '{"content": "token sk-live-0000", "timestamp": "1980-01-01T00:00:00"}', // no time zone
    '{"content": "x", "password-key": "sk-live-0000"}', // a field no memory has
    '{"content": "x", "timestamp": "hunter2"}',
    '{"format": "hunter2", "version": 1}', // another format: refuses the file
  ];

  it('in the API: ImportLineError messages and BadFileError', async () => {
    const store = new SQLiteStore(':memory:');
    const checked = await importJsonl(store, await fileOf([lines.slice(0, 5).join('\n')]));
    expect(checked.errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(checked.errors[0].message).toMatch(/^not valid JSON/);
    expect(leakedSecrets(checked.errors, SECRETS)).toEqual([]);
    const refused = await importJsonl(store, await fileOf([lines.join('\n')])).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadFileError);
    expect(leakedSecrets(refused, SECRETS)).toEqual([]);
    const firstLine = await importJsonl(store, await fileOf(['{"content": hunter2}\n'])).catch((e: unknown) => e);
    expect(firstLine).toBeInstanceOf(BadFileError);
    expect(leakedSecrets(firstLine, SECRETS)).toEqual([]);
    await store.close();
  });

  it('in the CLI: stderr (text and --json) names lines, never their content', async () => {
    requireBuild();
    const BIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
    const file = await fileOf([lines.slice(0, 5).join('\n')]);
    for (const extra of [[], ['--json']]) {
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, '--db', tmp.file(`cli-${extra.length}.db`), 'import', file, ...extra], {
          env: { ...process.env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d));
        child.stderr.on('data', (d: Buffer) => (text += d));
        child.on('close', (code) => resolve({ code, text }));
      });
      expect(out.code).toBe(1);
      expect(out.text).toMatch(/line 2: not valid JSON/);
      expect(leakedSecrets(out.text, SECRETS)).toEqual([]);
    }
  });
});

describe('gzip input that is damaged', () => {
  it('refuses a truncated gzip file before writing anything', async () => {
    const store = new SQLiteStore(':memory:');
    const ns = uniqueNamespace('gz');
    const whole = gzipSync(Buffer.from([JSON.stringify(header), ...Array.from({ length: 5000 }, (_, i) => line(ns, i))].join('\n')));
    const f = tmp.file('cut.jsonl.gz');
    fs.writeFileSync(f, whole.subarray(0, Math.floor(whole.length * 0.8)));
    const error = await importJsonl(store, f, { batchSize: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadFileError);
    expect((error as Error).message).toMatch(/gzip data is damaged or cut short\); nothing was written/);
    expect(await store.count(ns)).toBe(0);
    await store.close();
  });
});
