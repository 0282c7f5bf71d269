/**
 * Store-to-store migration: every namespace (or the ones given) from any
 * MemoryStore to any other, in batches, each written in one transaction,
 * verified at the end.
 */
import { OperationAbortedError, TransferVerificationError, ValidationError, type NamespaceMismatch } from '../errors';
import type { Memory, MemoryStore } from '../types';
import { describe, validateLimit, validateNamespace, validateOptions } from '../validate';
import { batchesOf, countsOf, hasGetMany } from './batches';
import { checkCallbacks, checkStore } from './checks';
import { checksumNamespace, memoryDigest } from './checksum';

/** Options of {@link transfer}. */
export interface TransferOptions {
  /** The namespaces to copy. @defaultValue every namespace of the source */
  namespaces?: string[];
  /** Memories read, and written in one transaction, at a time (1-100,000). @defaultValue 5000 */
  batchSize?: number;
  /**
   * Batches written at once (1-16), each in its own transaction and, on
   * PostgreSQL, on its own pooled connection.
   * @defaultValue 2
   */
  concurrency?: number;
  /**
   * Leave alone memories the destination already holds unchanged (same id,
   * content, metadata, tags and timestamp), so a transfer run again after an
   * interruption only writes what is missing. Needs a destination with
   * `getMany` (every built-in store); other destinations get every memory
   * written again, which is just as correct, only slower.
   * @defaultValue true
   */
  skipUnchanged?: boolean;
  /**
   * After copying, count and checksum every copied namespace on both stores
   * and compare (see {@link checksumNamespace}); throw {@link TransferVerificationError} on a difference.
   * @defaultValue true
   */
  verify?: boolean;
  /** Called after every batch, and during verification. */
  onProgress?(progress: TransferProgress): void;
  /** Stops the transfer between two batches, with an {@link OperationAbortedError}. */
  signal?: AbortSignal;
}

/** What {@link TransferOptions.onProgress} receives. */
export interface TransferProgress {
  /** `copy`, then `verify` (when verifying). */
  phase: 'copy' | 'verify';
  /** The namespace being worked on. */
  namespace: string;
  /** Memories handled so far in this phase, over every namespace. */
  done: number;
  /** Memories the selected namespaces held when the transfer started (a live store may drift from it). */
  total: number;
  /** Memories written so far (copy phase). */
  written: number;
  /** Memories found unchanged in the destination so far (copy phase). */
  skipped: number;
}

/** What happened to one namespace. */
export interface NamespaceTransfer {
  namespace: string;
  /** Memories read from the source. */
  read: number;
  /** Memories written to the destination. */
  written: number;
  /** Memories the destination already held unchanged. */
  skipped: number;
  /** Counts and checksums compared at the end (when verifying). */
  source?: { count: number; checksum: string };
  destination?: { count: number; checksum: string };
}

/** What {@link transfer} returns. */
export interface TransferResult {
  namespaces: NamespaceTransfer[];
  read: number;
  written: number;
  skipped: number;
  /** True when every namespace was verified equal on both stores. */
  verified: boolean;
  ms: number;
}

const OPTIONS = ['namespaces', 'batchSize', 'concurrency', 'skipUnchanged', 'verify', 'onProgress', 'signal'] as const;

function checkOptions(value: TransferOptions | undefined) {
  const options = validateOptions(value, OPTIONS) as TransferOptions;
  const namespaces = options.namespaces;
  if (namespaces !== undefined && !Array.isArray(namespaces)) throw new ValidationError('options.namespaces', 'must be an array of namespaces', describe(namespaces));
  for (const key of ['skipUnchanged', 'verify'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new ValidationError(`options.${key}`, 'must be a boolean', describe(options[key]));
  }
  checkCallbacks(options);
  return {
    namespaces: namespaces === undefined ? undefined : [...new Set(namespaces.map((ns, i) => validateNamespace(ns, `options.namespaces[${i}]`)))],
    batchSize: validateLimit(options.batchSize, 'options.batchSize', 5000, 100_000)!,
    concurrency: validateLimit(options.concurrency, 'options.concurrency', 2, 16)!,
    skipUnchanged: options.skipUnchanged ?? true,
    verify: options.verify ?? true,
  };
}

/**
 * Copies memories from one store to another: SQLite to PostgreSQL, back, or
 * to and from any custom {@link MemoryStore}. Ids, timestamps, metadata and
 * tags are kept.
 *
 * - **Flat memory:** each namespace is read in batches (`iterate`; a custom
 *   source without it is read one namespace at a time with `getAllMemories`).
 * - **Atomic batches:** each batch is written with one `saveMany`, one
 *   transaction: an interruption never leaves half a batch. Small
 *   namespaces share batches; `concurrency` batches are written at once.
 * - **Resumable:** saving an existing `(namespace, id)` replaces it, so a
 *   transfer run again never duplicates, and memories already copied
 *   unchanged are skipped (`skipUnchanged`).
 * - **Verified:** counts and an order-independent checksum of every copied
 *   namespace are compared on both stores at the end (`verify`).
 *
 * The source may stay in use: memories written to it during the transfer may
 * or may not be copied (verification then reports the difference; run the
 * transfer again). Memories the destination holds that the source does not
 * are left alone, and also make verification fail.
 *
 * @example
 * const from = new SQLiteStore('./aimemo.db');
 * const to = new PostgresStore(process.env.DATABASE_URL!);
 * const result = await transfer(from, to, {
 *   onProgress: (p) => console.log(`${p.phase} ${p.done}/${p.total}`),
 * });
 * console.log(`${result.written} written, ${result.skipped} already there, verified: ${result.verified}`);
 * @throws TransferVerificationError when a namespace differs after copying.
 * @throws OperationAbortedError when `signal` aborts it (finished batches stay; run it again to continue).
 * @throws ValidationError for bad options, or a source memory the destination refuses.
 */
export async function transfer(source: MemoryStore, destination: MemoryStore, options?: TransferOptions): Promise<TransferResult> {
  const started = performance.now();
  checkStore(source, 'source');
  checkStore(destination, 'destination');
  const opts = checkOptions(options);
  const { signal, onProgress } = options ?? {};
  const checkAborted = () => {
    if (signal?.aborted) throw new OperationAbortedError('transfer', { cause: signal.reason });
  };
  checkAborted();
  const namespaces = opts.namespaces ?? (await source.getAllNamespaces());
  const counts = await countsOf(source, namespaces);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const skipUnchanged = opts.skipUnchanged && hasGetMany(destination);

  const reports = new Map<string, NamespaceTransfer>(namespaces.map((namespace) => [namespace, { namespace, read: 0, written: 0, skipped: 0 }]));
  let done = 0;
  let written = 0;
  let skipped = 0;
  let current = namespaces[0] ?? '';
  const progress = () => onProgress?.({ phase: 'copy', namespace: current, done, total, written, skipped });

  // Writes: batches of `batchSize` (small namespaces are combined), up to
  // `concurrency` in flight, each one saveMany (one transaction).
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let outgoing: Memory[] = [];
  const submit = async (batch: Memory[]) => {
    while (inFlight.size >= opts.concurrency) await Promise.race(inFlight);
    if (failure) throw failure.error;
    const write: Promise<void> = destination.saveMany(batch).then(
      () => {
        for (const m of batch) reports.get(m.namespace)!.written++;
        written += batch.length;
        progress();
      },
      (error: unknown) => {
        failure ??= { error };
      },
    );
    const tracked = write.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  try {
    for (const namespace of namespaces) {
      current = namespace;
      const report = reports.get(namespace)!;
      const batches = batchesOf(source, namespace, opts.batchSize)[Symbol.asyncIterator]();
      try {
        // The next batch is read while the current one is compared and written.
        let next = batches.next();
        for (;;) {
          const step = await next;
          if (step.done) break;
          checkAborted();
          if (failure) throw failure.error;
          next = batches.next();
          next.catch(() => undefined); // handled when awaited; an error first elsewhere must not leave it unhandled
          const batch = step.value;
          let changed: Memory[] = batch;
          if (skipUnchanged) {
            const existing = await destination.getMany(batch.map((m) => m.id), namespace);
            const digests = new Map(existing.map((m) => [m.id, memoryDigest(m)]));
            changed = batch.filter((m) => digests.get(m.id) !== memoryDigest(m));
          }
          report.read += batch.length;
          report.skipped += batch.length - changed.length;
          done += batch.length;
          skipped += batch.length - changed.length;
          outgoing = outgoing.concat(changed);
          while (outgoing.length >= opts.batchSize) await submit(outgoing.splice(0, opts.batchSize));
          progress();
        }
      } finally {
        await batches.return?.(undefined)?.catch(() => undefined);
      }
    }
    checkAborted();
    if (outgoing.length > 0) await submit(outgoing.splice(0));
    await Promise.all(inFlight);
    if (failure) throw failure.error;
  } finally {
    // Never return (or throw) while a write is still running: the caller may close the stores.
    await Promise.allSettled([...inFlight]);
  }

  let verified = false;
  if (opts.verify) {
    checkAborted();
    const mismatches: NamespaceMismatch[] = [];
    let checked = 0;
    const verifyTotal = done;
    for (const report of reports.values()) {
      // Both sides are read at once; progress follows the slower one.
      const counted = [0, 0];
      const side = (store: MemoryStore, i: number) =>
        checksumNamespace(store, report.namespace, {
          batchSize: opts.batchSize,
          onProgress: (n) => {
            counted[i] = n;
            onProgress?.({ phase: 'verify', namespace: report.namespace, done: checked + Math.min(...counted), total: verifyTotal, written, skipped });
          },
        });
      const [a, b] = await Promise.all([side(source, 0), side(destination, 1)]);
      report.source = { count: a.count, checksum: a.checksum };
      report.destination = { count: b.count, checksum: b.checksum };
      if (a.count !== b.count || a.checksum !== b.checksum) mismatches.push({ namespace: report.namespace, source: report.source, destination: report.destination });
      checked += report.read;
      onProgress?.({ phase: 'verify', namespace: report.namespace, done: checked, total: verifyTotal, written, skipped });
      checkAborted();
    }
    if (mismatches.length > 0) throw new TransferVerificationError(mismatches);
    verified = true;
  }
  return { namespaces: [...reports.values()], read: done, written, skipped, verified, ms: Math.round(performance.now() - started) };
}
