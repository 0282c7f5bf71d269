/**
 * Import of AIMemo JSON Lines (the format is described in `jsonl.ts`).
 *
 * Two passes: the whole input is read and checked before anything is written
 * (a stream, which cannot be read twice, is first copied to a private
 * temporary file), then read again and written in batches. So a file that is
 * refused (another format or a newer version, a header further down, bytes
 * that are not UTF-8, a line longer than {@link MAX_LINE_BYTES}, a truncated
 * gzip, an unreadable file) writes nothing at all; lines that are JSON but
 * not valid memories are reported by number and left out, and the rest is
 * imported. Reading is linear and memory stays bounded: one line and one
 * batch at a time.
 *
 * Error messages name the line and the problem, never what the line holds.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { AIMemoError, BadFileError, ValidationError } from '../errors';
import type { MemoryStore, NewMemory } from '../types';
import { describe, validateLimit, validateMemoryRecord, validateNamespace, validateOptions } from '../validate';
import { checkAborted, checkCallbacks, checkNamespaces, checkStore } from './checks';
import { JSONL_FORMAT, JSONL_VERSION } from './jsonl-format';
import { linesOf, MAX_LINE_BYTES } from './lines';


/** Where an import comes from: a file path (`-` is not special here) or a readable stream (plain or gzip). */
export type JsonlInput = string | NodeJS.ReadableStream;

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
  /**
   * Called as the input is read: `phase` is `'check'` (the first pass, which
   * writes nothing), then `'import'`. `bytes`/`totalBytes` count the input as
   * read (compressed, for gzip).
   */
  onProgress?(progress: { phase: 'check' | 'import'; line: number; imported: number; rejected: number; bytes: number; totalBytes?: number }): void;
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

const OPTIONS = ['namespaces', 'namespace', 'batchSize', 'dryRun', 'onProgress', 'signal'] as const;


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

/** A header line: an object with `format` (and no `content`: a memory carrying a `format` key is a bad memory line). */
function isHeader(value: unknown): value is { format: unknown; version: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'format' in value && !('content' in value);
}

/** Why `JSON.parse` failed, without the text it quotes (V8 puts the line's content in its message). */
function jsonProblem(error: unknown): string {
  const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  return `not valid JSON${position === undefined ? '' : ` (at character ${Number(position) + 1})`}`;
}

/** A file to read (twice), with what is needed to tell whether it changed in between. */
interface Source {
  name: string;
  file: string;
  size: number;
  mtimeMs: number;
  /** Removes the temporary copy of a stream. */
  cleanup(): void;
}

/** A file path as given, or a stream copied to a private temporary file. */
async function sourceOf(input: unknown): Promise<Source> {
  if (typeof input === 'string') {
    const name = path.resolve(input);
    try {
      const stat = fs.statSync(name);
      if (!stat.isFile()) throw new BadFileError(name, 'is not a file');
      fs.accessSync(name, fs.constants.R_OK);
      return { name, file: name, size: stat.size, mtimeMs: stat.mtimeMs, cleanup: () => undefined };
    } catch (error) {
      if (error instanceof BadFileError) throw error;
      throw new BadFileError(name, `cannot read: ${(error as { code?: string }).code ?? 'error'}`, { cause: error });
    }
  }
  if (typeof input !== 'object' || input === null || typeof (input as NodeJS.ReadableStream).pipe !== 'function') {
    throw new ValidationError('input', 'must be a file path or a readable stream', describe(input));
  }
  const name = '(input stream)';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-import-'));
  const file = path.join(dir, `input-${randomBytes(4).toString('hex')}`);
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await pipeline(input as Readable, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    cleanup();
    throw new BadFileError(name, `cannot read: ${(error as { code?: string }).code ?? (error as Error).message}; nothing was written`, { cause: error });
  }
  const stat = fs.statSync(file);
  return { name, file, size: stat.size, mtimeMs: stat.mtimeMs, cleanup };
}

/** What one pass does with each valid memory line, and with each batch of them. */
interface Pass {
  phase: 'check' | 'import';
  write(batch: NewMemory[]): Promise<void>;
}

/**
 * Reads AIMemo JSON Lines (see the format in `jsonl.ts`) into a store, in
 * two passes (see the module comment): a file that is refused writes
 * nothing; lines that are not valid memories are reported by line number and
 * left out, and the rest is imported. Every line is checked with the same
 * rules as `save`. Valid memories are written in batches of `batchSize`, each
 * one transaction: an interruption never leaves half a batch, and since a
 * memory with an id replaces the one already there, importing a file again
 * never duplicates (lines without an id get a new one each time).
 *
 * @example
 * const result = await importJsonl(store, 'user_123.jsonl.gz');
 * for (const e of result.errors) console.error(`line ${e.line}: ${e.message}`);
 * // restore one user's memories from a full export, under a new name
 * await importJsonl(store, 'all.jsonl', { namespaces: ['user_123'], namespace: 'user_123_restored' });
 * @throws BadFileError when the input cannot be read or is not AIMemo JSON Lines of a version this package reads: another format or version (on any header line), bytes that are not UTF-8, a line longer than 2 MiB, a damaged gzip stream. Nothing is written then.
 */
export async function importJsonl(store: MemoryStore, input: JsonlInput, options?: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  checkStore(store, 'store');
  const opts = validateOptions(options, OPTIONS) as ImportOptions;
  const only = checkNamespaces(opts.namespaces);
  const rename = opts.namespace === undefined ? undefined : validateNamespace(opts.namespace, 'options.namespace');
  const batchSize = validateLimit(opts.batchSize, 'options.batchSize', 1000, 100_000)!;
  const dryRun = opts.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new ValidationError('options.dryRun', 'must be a boolean', describe(dryRun));
  checkCallbacks(opts);
  checkAborted(opts.signal, 'import');

  const source = await sourceOf(input);
  try {
    const settings = { only, rename, batchSize, opts };
    const checked = await readFile(source, settings, { phase: 'check', write: async () => undefined });
    if (dryRun) return { ...checked, dryRun: true, ms: Math.round(performance.now() - started) };
    const now = fs.statSync(source.file);
    if (now.size !== source.size || now.mtimeMs !== source.mtimeMs) {
      throw new BadFileError(source.name, 'changed while it was being checked; nothing was written (run the import again)');
    }
    const imported = await readFile(source, settings, { phase: 'import', write: (batch) => store.saveMany(batch).then(() => undefined) });
    return { ...imported, dryRun: false, ms: Math.round(performance.now() - started) };
  } finally {
    source.cleanup();
  }
}

/** One pass over the file: every line parsed and checked; valid memories handed to `pass.write` in batches. */
async function readFile(
  source: Source,
  settings: { only: string[] | undefined; rename: string | undefined; batchSize: number; opts: ImportOptions },
  pass: Pass,
): Promise<Omit<ImportResult, 'dryRun' | 'ms'>> {
  const { only, rename, batchSize, opts } = settings;
  const { name } = source;
  const result = { lines: 0, imported: 0, rejected: 0, filtered: 0, errors: [] as ImportLineError[], namespaces: [] as { namespace: string; count: number }[] };
  const perNamespace = new Map<string, number>();
  const counter = { bytes: 0 };
  let pending: NewMemory[] = [];
  const report = () =>
    opts.onProgress?.({ phase: pass.phase, line: result.lines, imported: result.imported, rejected: result.rejected, bytes: counter.bytes, totalBytes: source.size });
  const flush = async () => {
    if (pending.length === 0) return;
    checkAborted(opts.signal, 'import');
    await pass.write(pending);
    for (const m of pending) perNamespace.set(m.namespace!, (perNamespace.get(m.namespace!) ?? 0) + 1);
    result.imported += pending.length;
    pending = [];
    report();
  };
  const reject = (line: number, message: string) => {
    result.rejected++;
    if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ line, message });
  };
  // After the check pass found the file sound, a refusal here means it changed under us: say what was written.
  const refuse = (message: string, line?: number, cause?: unknown): never => {
    const written = pass.phase === 'import' ? `; ${result.imported} memories were imported in whole batches before that` : '; nothing was written';
    throw new BadFileError(name, `${message}${written}`, { ...(line === undefined ? {} : { line }), ...(cause === undefined ? {} : { cause }) });
  };

  const stream = fs.createReadStream(source.file);
  let lastReport = 0;
  try {
    for await (const raw of linesOf(bytesOf(stream, counter))) {
      const line = raw.number;
      result.lines = line;
      if ('tooLong' in raw) return refuse(`is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB (no memory is); is this AIMemo JSON Lines?`, line);
      if ('notUtf8' in raw) return refuse('is not UTF-8 text (AIMemo JSON Lines is UTF-8; convert the file, e.g. with iconv)', line);
      const text = (line === 1 ? raw.text.replace(/^\uFEFF/, '') : raw.text).replace(/\r$/, '');
      if (counter.bytes - lastReport >= 1 << 20) {
        lastReport = counter.bytes;
        report();
      }
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        if (line === 1) refuse('is not AIMemo JSON Lines: the first line is not JSON', line); // its message would quote the line
        reject(line, jsonProblem(error));
        continue;
      }
      if (isHeader(value)) {
        if (value.format !== JSONL_FORMAT) refuse(`is not AIMemo JSON Lines: its header names another format (expected "${JSONL_FORMAT}")`, line);
        if (typeof value.version !== 'number' || !Number.isInteger(value.version) || value.version < 1 || value.version > JSONL_VERSION) {
          const version = typeof value.version === 'number' && Number.isSafeInteger(value.version) ? String(value.version) : describe(value.version);
          refuse(`has format version ${version}; this aimemo reads versions 1-${JSONL_VERSION} (upgrade aimemo to read it)`, line);
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
      refuse(`cannot read after line ${result.lines} (${code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'the gzip data is damaged or cut short' : code})`, undefined, error);
    }
    throw error;
  } finally {
    stream.destroy();
  }
  report();
  result.namespaces = [...perNamespace].map(([namespace, count]) => ({ namespace, count })).sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  return result;
}
