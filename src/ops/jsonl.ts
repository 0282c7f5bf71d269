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
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { AIMemoError, BadFileError, ValidationError } from '../errors';
import type { Json, Memory, MemoryStore } from '../types';
import { describe, validateLimit, validateOptions } from '../validate';
import { batchesOf, countsOf } from './batches';
import { checkAborted, checkCallbacks, checkNamespaces, checkStore } from './checks';
import { jsonText } from './json-text';
import { JSONL_FORMAT, JSONL_VERSION } from './jsonl-format';
import { checkOutputPath, databaseFilesOf } from './output-path';

export { JSONL_FORMAT, JSONL_VERSION } from './jsonl-format';
export { importJsonl, type ImportLineError, type ImportOptions, type ImportResult, type JsonlInput } from './jsonl-import';

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
  return jsonText(line as unknown as Json); // metadata stored deeper than the call stack still exports
}

/** Where an export goes: a file path (`.gz` compresses) or a writable stream, such as `process.stdout`, which is left open. */
export type JsonlOutput = string | NodeJS.WritableStream;

/** Options of {@link exportJsonl}. */
export interface ExportOptions {
  /** The namespaces to export. @defaultValue every namespace */
  namespaces?: string[];
  /** Memories read at a time (1-100,000). @defaultValue 5000 */
  batchSize?: number;
  /**
   * Replace the output file when it exists. The store's own database file
   * (and its -wal, -shm, -journal files) is refused even so.
   * @defaultValue false
   */
  overwrite?: boolean;
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
 * when complete: a failed or aborted export never leaves a partial file. An
 * existing file is replaced only with `overwrite`, and never when it is the
 * store's own database or one of its `-wal`, `-shm`, `-journal` files.
 * This is also the per-namespace backup that `pg_dump` cannot make.
 *
 * @example
 * await exportJsonl(store, 'user_123.jsonl.gz', { namespaces: ['user_123'] });
 * await exportJsonl(store, process.stdout);
 * @throws BadFileError when the file cannot be written, exists (without `overwrite`) or is the store's database.
 * @throws ValidationError when `output` is not a file path or a writable stream, or names a directory.
 */
export async function exportJsonl(store: MemoryStore, output: JsonlOutput, options?: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  checkStore(store, 'store');
  const opts = validateOptions(options, ['namespaces', 'batchSize', 'overwrite', 'onProgress', 'signal']) as ExportOptions;
  const selected = checkNamespaces(opts.namespaces);
  const batchSize = validateLimit(opts.batchSize, 'options.batchSize', 5000, 100_000)!;
  const overwrite = opts.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw new ValidationError('options.overwrite', 'must be a boolean', describe(overwrite));
  checkCallbacks(opts);
  if (typeof output !== 'string' && (typeof output !== 'object' || output === null || typeof (output as NodeJS.WritableStream).write !== 'function')) {
    throw new ValidationError('output', 'must be a file path or a writable stream', describe(output));
  }
  // Before any work: never the store's own database file (or its -wal/-shm/-journal), an existing file only with overwrite.
  const target = typeof output === 'string' ? checkOutputPath(output, { overwrite, protect: databaseFilesOf(store), field: 'output' }) : undefined;
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
  if (target !== undefined) {
    file = target;
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
    bytes = await writeTo(output as NodeJS.WritableStream, chunks());
  }
  return {
    ...(file ? { path: file } : {}),
    count: done,
    namespaces: namespaces.map((namespace) => ({ namespace, count: written.get(namespace)! })),
    bytes,
    ms: Math.round(performance.now() - started),
  };
}
