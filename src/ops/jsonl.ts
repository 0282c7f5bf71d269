/**
 * Export and import as AIMemo JSON Lines: one memory per line, UTF-8.
 *
 * Format version 2 (version 1 had no `expiresAt`; both are read):
 *
 * ```
 * {"format":"aimemo-jsonl","version":2,"exportedAt":"2026-01-31T09:30:00.000Z","source":"sqlite","namespaces":["user_123"]}
 * {"namespace":"user_123","id":"0194…","timestamp":"2026-01-30T18:02:11.512Z","content":"Prefers dark mode","tags":["preference"],"metadata":{"source":"chat"}}
 * {"namespace":"user_123","id":"0195…","timestamp":"2026-01-31T08:00:00.000Z","content":"Scratch: call back","tags":[],"metadata":{},"expiresAt":"2026-02-01T08:00:00.000Z"}
 * ```
 *
 * - Line 1 is the header: `format` and `version` are required; the rest is
 *   information. Files without a header are read as version 1; a file of
 *   another format or a newer version is refused before anything is written.
 *   A header may appear again later (concatenated exports).
 * - Every other line is one memory: `content` (required), `id`, `namespace`,
 *   `timestamp` (ISO 8601 with a time zone; milliseconds are kept), `tags`,
 *   `metadata`, and `expiresAt` (ISO 8601, only on a memory that expires;
 *   version 2); the same rules as `save`, and no other fields. Expired
 *   memories are not exported (no read returns them). Missing fields
 *   get `save`'s defaults (a new id, namespace `'default'`, now, none).
 * - Blank lines are ignored; line ends are `\n` (`\r\n` is accepted).
 * - A path ending in `.gz` is written gzip-compressed; gzip input is
 *   recognised by its first bytes.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { createGunzip, createGzip } from 'node:zlib';
import { AIMemoError, BadFileError, OperationAbortedError, ValidationError } from '../errors';
import type { Memory, MemoryStore, NewMemory } from '../types';
import { describe, validateLimit, validateMemoryRecord, validateNamespace } from '../validate';
import { batchesOf, countsOf } from './batches';

/** The `format` of an AIMemo JSON Lines header. */
export const JSONL_FORMAT = 'aimemo-jsonl';
/** The format version this package writes, and the newest it reads. Version 2 added `expiresAt`. */
export const JSONL_VERSION = 2;

/** Line 1 of an export. */
export interface JsonlHeader {
  format: typeof JSONL_FORMAT;
  version: number;
  /** When the export started (ISO 8601). */
  exportedAt?: string;
  /** The dialect of the store it came from, when known. */
  source?: string;
  /** The namespaces it holds. */
  namespaces?: string[];
}

/** One memory as a line holds it: a {@link Memory} with the timestamp as ISO 8601 text. */
export interface JsonlMemory {
  namespace: string;
  id: string;
  timestamp: string;
  content: string;
  tags: string[];
  metadata: Memory['metadata'];
  /** When the memory expires (ISO 8601); only on memories that do. */
  expiresAt?: string;
}

/** The line for one memory (no line end). */
export function memoryToJsonl(m: Memory): string {
  const line: JsonlMemory = {
    namespace: m.namespace,
    id: m.id,
    timestamp: m.timestamp.toISOString(),
    content: m.content,
    tags: m.tags,
    metadata: m.metadata,
    ...(m.expiresAt ? { expiresAt: m.expiresAt.toISOString() } : {}),
  };
  return JSON.stringify(line);
}

/** Where an export goes: a file path (`.gz` compresses) or a writable stream, such as `process.stdout`, which is left open. */
export type JsonlOutput = string | NodeJS.WritableStream;
/** Where an import comes from: a file path (`-` is not special here) or a readable stream (plain or gzip). */
export type JsonlInput = string | NodeJS.ReadableStream;

/** Options of {@link exportJsonl}. */
export interface ExportOptions {
  /** The namespaces to export. @defaultValue every namespace */
  namespaces?: string[];
  /** Memories read at a time (1-100,000). @defaultValue 5000 */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?(progress: { namespace: string; done: number; total: number }): void;
  /** Stops between two batches with an {@link OperationAbortedError}; a file output is then not created. */
  signal?: AbortSignal;
}

/** What {@link exportJsonl} returns. */
export interface ExportResult {
  /** Absolute path of the file written, when the output was a path. */
  path?: string;
  /** Memories written. */
  count: number;
  namespaces: { namespace: string; count: number }[];
  /** Bytes written (compressed size for `.gz`). */
  bytes: number;
  ms: number;
}

function checkNamespaces(value: unknown, field = 'options.namespaces'): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of namespaces', describe(value));
  return [...new Set(value.map((ns, i) => validateNamespace(ns, `${field}[${i}]`)))];
}

function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new OperationAbortedError(what, { cause: signal.reason });
}

/**
 * Writes chunks to a stream, waiting whenever it asks to (backpressure). An
 * error the stream emits (EPIPE when the reader of a pipe goes away) stops
 * the export instead of going unhandled.
 */
async function writeTo(stream: NodeJS.WritableStream, chunks: AsyncIterable<string>): Promise<number> {
  let failed: Error | undefined;
  const onError = (error: Error) => {
    failed ??= error;
  };
  stream.on('error', onError);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      if (failed) break;
      bytes += Buffer.byteLength(chunk);
      if (!stream.write(chunk)) await once(stream as NodeJS.EventEmitter, 'drain').catch((error: Error) => onError(error));
    }
  } finally {
    stream.off('error', onError);
  }
  if (failed) {
    const reason = (failed as { code?: string }).code === 'EPIPE' ? 'the reader closed the output before the export finished' : failed.message;
    throw new BadFileError('(output stream)', `cannot write: ${reason}`, { cause: failed });
  }
  return bytes;
}

/**
 * Writes namespaces of any store as AIMemo JSON Lines (see the format above):
 * all of them, or those in `namespaces`. Memories are read in batches, so
 * memory stays flat. A file is written under a temporary name and renamed
 * when complete: a failed or aborted export never leaves a partial file.
 * This is also the per-namespace backup that `pg_dump` cannot make.
 *
 * @example
 * await exportJsonl(store, 'user_123.jsonl.gz', { namespaces: ['user_123'] });
 * await exportJsonl(store, process.stdout);
 * @throws BadFileError when the file cannot be written.
 */
export async function exportJsonl(store: MemoryStore, output: JsonlOutput, options: ExportOptions = {}): Promise<ExportResult> {
  const started = performance.now();
  const opts = options ?? {};
  const selected = checkNamespaces(opts.namespaces);
  const batchSize = validateLimit(opts.batchSize, 'options.batchSize', 5000, 100_000)!;
  if (typeof output !== 'string' && (typeof output !== 'object' || output === null || typeof (output as NodeJS.WritableStream).write !== 'function')) {
    throw new ValidationError('output', 'must be a file path or a writable stream', describe(output));
  }
  checkAborted(opts.signal, 'export');
  const namespaces = selected ?? (await store.getAllNamespaces());
  const counts = await countsOf(store, namespaces);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const written = new Map(namespaces.map((ns) => [ns, 0]));
  const dialect = (store as { dialect?: unknown }).dialect;
  const header: JsonlHeader = {
    format: JSONL_FORMAT,
    version: JSONL_VERSION,
    exportedAt: new Date().toISOString(),
    ...(typeof dialect === 'string' ? { source: dialect } : {}),
    namespaces,
  };

  let done = 0;
  async function* chunks(): AsyncGenerator<string> {
    yield `${JSON.stringify(header)}\n`;
    for (const namespace of namespaces) {
      for await (const batch of batchesOf(store, namespace, batchSize)) {
        checkAborted(opts.signal, 'export');
        let text = '';
        for (const m of batch) text += `${memoryToJsonl(m)}\n`;
        done += batch.length;
        written.set(namespace, written.get(namespace)! + batch.length);
        yield text;
        opts.onProgress?.({ namespace, done, total });
      }
    }
  }

  let bytes: number;
  let file: string | undefined;
  if (typeof output === 'string') {
    file = path.resolve(output);
    if (!fs.existsSync(path.dirname(file))) throw new BadFileError(file, `cannot write: the directory ${path.dirname(file)} does not exist`);
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const sink = fs.createWriteStream(tmp, { flags: 'wx' });
      if (file.endsWith('.gz')) await pipeline(Readable.from(chunks()), createGzip(), sink);
      else await pipeline(Readable.from(chunks()), sink);
      bytes = fs.statSync(tmp).size;
      fs.renameSync(tmp, file);
    } catch (error) {
      fs.rmSync(tmp, { force: true });
      if (error instanceof AIMemoError) throw error;
      const code = (error as { code?: string }).code;
      if (code && /^E[A-Z]+$/.test(code)) throw new BadFileError(file, `cannot write: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  } else {
    bytes = await writeTo(output, chunks());
  }
  return {
    ...(file ? { path: file } : {}),
    count: done,
    namespaces: namespaces.map((namespace) => ({ namespace, count: written.get(namespace)! })),
    bytes,
    ms: Math.round(performance.now() - started),
  };
}

/** Options of {@link importJsonl}. */
export interface ImportOptions {
  /** Import only memories of these namespaces (as the file names them). @defaultValue all */
  namespaces?: string[];
  /** Put every imported memory into this namespace instead of the one in the file (restore one user's memories under another name). */
  namespace?: string;
  /** Memories written in one transaction (1-100,000). @defaultValue 1000 */
  batchSize?: number;
  /** Check every line, write nothing. @defaultValue false */
  dryRun?: boolean;
  /** Called after every batch. `bytes`/`totalBytes` count the input as read (compressed, for gzip); `totalBytes` is known for files only. */
  onProgress?(progress: { line: number; imported: number; rejected: number; bytes: number; totalBytes?: number }): void;
  /** Stops between two batches with an {@link OperationAbortedError}; batches written before stay. */
  signal?: AbortSignal;
}

/** One line that was not imported. */
export interface ImportLineError {
  /** 1-based line number in the (uncompressed) input. */
  line: number;
  /** What is wrong with it: `content must be a non-empty string; got an empty string`. */
  message: string;
}

/** What {@link importJsonl} returns. */
export interface ImportResult {
  /** Lines read, blank ones and headers included. */
  lines: number;
  /** Memories written (or, with `dryRun`, that would have been). */
  imported: number;
  /** Memory lines left out because they are not valid. */
  rejected: number;
  /** Valid memories left out by the `namespaces` filter. */
  filtered: number;
  /** The first 1,000 rejected lines, by line number. */
  errors: ImportLineError[];
  /** The namespaces written to, with how many memories each. */
  namespaces: { namespace: string; count: number }[];
  dryRun: boolean;
  ms: number;
}

const MAX_REPORTED_ERRORS = 1000;

/** The input as bytes, gunzipped when it starts with the gzip magic number, with a running count of raw bytes read. */
async function* bytesOf(input: NodeJS.ReadableStream, counter: { bytes: number }): AsyncGenerator<Buffer> {
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const raw = (input as Readable).pipe(counted);
  input.on('error', (error) => counted.destroy(error));
  const iterator = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    const source = Readable.from(rest());
    source.on('error', (error) => gunzip.destroy(error));
    yield* source.pipe(gunzip) as AsyncIterable<Buffer>;
  } else {
    yield* rest();
  }
}

/** Lines of UTF-8 text, split on `\n` only (U+2028 and a lone `\r` may occur inside JSON strings). */
async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let carry = '';
  for await (const chunk of chunks) {
    carry += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = carry.indexOf('\n'); nl >= 0; nl = carry.indexOf('\n', start)) {
      yield carry.slice(start, nl);
      start = nl + 1;
    }
    carry = carry.slice(start);
  }
  carry += decoder.decode();
  if (carry.length > 0) yield carry;
}

function isHeader(value: unknown): value is { format: unknown; version: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'format' in value;
}

/**
 * Reads AIMemo JSON Lines (see the format above) into a store. Every line is
 * checked with the same rules as `save`; lines that fail are not written and
 * are reported by line number, and the rest is imported. Valid memories are
 * written in batches of `batchSize`, each one transaction: an interruption
 * never leaves half a batch, and since a memory with an id replaces the one
 * already there, importing a file again never duplicates (lines without an id
 * get a new one each time).
 *
 * @example
 * const result = await importJsonl(store, 'user_123.jsonl.gz');
 * for (const e of result.errors) console.error(`line ${e.line}: ${e.message}`);
 * // restore one user's memories from a full export, under a new name
 * await importJsonl(store, 'all.jsonl', { namespaces: ['user_123'], namespace: 'user_123_restored' });
 * @throws BadFileError when the input cannot be read, its first line is not JSON, or its header names another format or a newer version (nothing is written).
 */
export async function importJsonl(store: MemoryStore, input: JsonlInput, options: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const opts = options ?? {};
  const only = checkNamespaces(opts.namespaces);
  const rename = opts.namespace === undefined ? undefined : validateNamespace(opts.namespace, 'options.namespace');
  const batchSize = validateLimit(opts.batchSize, 'options.batchSize', 1000, 100_000)!;
  const dryRun = opts.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new ValidationError('options.dryRun', 'must be a boolean', describe(dryRun));
  checkAborted(opts.signal, 'import');

  let name: string;
  let stream: NodeJS.ReadableStream;
  let totalBytes: number | undefined;
  if (typeof input === 'string') {
    name = path.resolve(input);
    try {
      const stat = fs.statSync(name);
      if (!stat.isFile()) throw new BadFileError(name, 'is not a file');
      totalBytes = stat.size;
      fs.accessSync(name, fs.constants.R_OK);
    } catch (error) {
      if (error instanceof BadFileError) throw error;
      throw new BadFileError(name, `cannot read: ${(error as Error).message}`, { cause: error });
    }
    stream = fs.createReadStream(name);
  } else if (typeof input === 'object' && input !== null && typeof (input as NodeJS.ReadableStream).pipe === 'function') {
    name = '(input stream)';
    stream = input;
  } else {
    throw new ValidationError('input', 'must be a file path or a readable stream', describe(input));
  }

  const result: ImportResult = { lines: 0, imported: 0, rejected: 0, filtered: 0, errors: [], namespaces: [], dryRun, ms: 0 };
  const perNamespace = new Map<string, number>();
  const counter = { bytes: 0 };
  let pending: NewMemory[] = [];
  const report = () => opts.onProgress?.({ line: result.lines, imported: result.imported, rejected: result.rejected, bytes: counter.bytes, ...(totalBytes === undefined ? {} : { totalBytes }) });
  const flush = async () => {
    if (pending.length === 0) return;
    checkAborted(opts.signal, 'import');
    if (!dryRun) await store.saveMany(pending);
    for (const m of pending) perNamespace.set(m.namespace!, (perNamespace.get(m.namespace!) ?? 0) + 1);
    result.imported += pending.length;
    pending = [];
    report();
  };
  const reject = (line: number, message: string) => {
    result.rejected++;
    if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ line, message });
  };

  try {
    for await (const raw of linesOf(bytesOf(stream, counter))) {
      const line = ++result.lines;
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        if (line === 1) throw new BadFileError(name, 'is not AIMemo JSON Lines: the first line is not JSON', { line, cause: error });
        reject(line, `not valid JSON: ${(error as Error).message}`);
        continue;
      }
      if (isHeader(value)) {
        if (value.format !== JSONL_FORMAT) throw new BadFileError(name, `is not AIMemo JSON Lines: format ${JSON.stringify(value.format)}, expected "${JSONL_FORMAT}"`, { line });
        if (typeof value.version !== 'number' || !Number.isInteger(value.version) || value.version < 1 || value.version > JSONL_VERSION) {
          throw new BadFileError(name, `has format version ${JSON.stringify(value.version)}; this aimemo reads versions 1-${JSONL_VERSION} (upgrade aimemo to read it)`, { line });
        }
        continue;
      }
      let memory;
      try {
        memory = validateMemoryRecord(value);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        reject(line, error.message);
        continue;
      }
      if (only && !only.includes(memory.namespace)) {
        result.filtered++;
        continue;
      }
      pending.push({
        content: memory.content,
        namespace: rename ?? memory.namespace,
        metadata: memory.metadata,
        tags: memory.tags,
        ...(memory.id === undefined ? {} : { id: memory.id }),
        ...(memory.timestamp === undefined ? {} : { timestamp: memory.timestamp }),
        ...(memory.expiresAt === undefined ? {} : { expiresAt: memory.expiresAt }),
      });
      if (pending.length >= batchSize) await flush();
    }
    await flush();
  } catch (error) {
    if (error instanceof AIMemoError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || (code && /^E[A-Z]+$/.test(code))) {
      throw new BadFileError(name, `cannot read after line ${result.lines} (${(error as Error).message}); ${result.imported} memories were imported in whole batches before that`, { cause: error });
    }
    throw error;
  } finally {
    (stream as Readable).destroy?.();
  }
  report();
  result.namespaces = [...perNamespace].map(([namespace, count]) => ({ namespace, count })).sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  result.ms = Math.round(performance.now() - started);
  return result;
}
