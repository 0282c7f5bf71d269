/**
 * Content checksums of namespaces, equal on every store that holds the same
 * memories, whatever order it returns them in.
 *
 * Each memory is written as one canonical JSON array (metadata keys sorted at
 * every depth, since PostgreSQL's jsonb reorders them; the timestamp as ISO
 * 8601 in milliseconds), hashed with SHA-256, and the 256-bit digests are
 * added modulo 2^256. A sum does not depend on order, so two stores compare
 * without sorting, and unlike XOR it does not cancel out equal digests.
 */
import { createHash } from 'node:crypto';
import type { Json, Memory, MemoryStore } from '../types';
import { ValidationError } from '../errors';
import { describe, validateLimit, validateNamespace, validateOptions } from '../validate';
import { batchesOf } from './batches';
import { checkStore } from './checks';
import { jsonText } from './json-text';

/** Metadata with its object keys in code-point order at every depth. */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}

/**
 * The canonical text of a memory: `[namespace, id, content, metadata, tags, timestamp]`
 * as JSON, metadata keys sorted, the timestamp as `toISOString()`, and
 * `expiresAt` (ISO 8601) appended for a memory that expires, so a memory
 * without one has the checksum it had before expiry existed.
 */
export function canonicalMemory(m: Memory): string {
  const fields: Json[] = [m.namespace, m.id, m.content, m.metadata, m.tags, m.timestamp.toISOString()];
  if (m.expiresAt) fields.push(m.expiresAt.toISOString());
  try {
    return JSON.stringify(fields.map((f, i) => (i === 3 ? sortKeys(f) : f)));
  } catch (error) {
    // Metadata nested deeper than the call stack (stored before save's depth limit): the same text, iteratively.
    if (!(error instanceof RangeError)) throw error;
    return jsonText(fields, true);
  }
}

/** SHA-256 of {@link canonicalMemory}, as 64 hex digits. */
export function memoryDigest(m: Memory): string {
  return createHash('sha256').update(canonicalMemory(m)).digest('hex');
}

const MOD = 1n << 256n;

/** An order-independent running checksum of a set of memories. */
export class MemoryChecksum {
  #sum = 0n;
  #count = 0;

  /** Adds one memory. */
  add(m: Memory): this {
    this.#sum = (this.#sum + BigInt(`0x${memoryDigest(m)}`)) % MOD;
    this.#count++;
    return this;
  }

  /** How many memories were added. */
  get count(): number {
    return this.#count;
  }

  /** The checksum: 64 hex digits (all zeros for no memories). */
  get value(): string {
    return this.#sum.toString(16).padStart(64, '0');
  }
}

/** What {@link checksumNamespace} returns. */
export interface NamespaceChecksum {
  namespace: string;
  count: number;
  /** 64 hex digits; see {@link MemoryChecksum}. */
  checksum: string;
}

/**
 * Counts and checksums one namespace of any store, reading it in batches
 * (`SqlStore#iterate`) or, for a custom store without `iterate`, through
 * `getAllMemories`. Two stores holding the same memories give the same result.
 * `onProgress` is called after each batch with how many were counted so far.
 *
 * @example
 * const [a, b] = await Promise.all([checksumNamespace(sqlite, 'user_123'), checksumNamespace(pg, 'user_123')]);
 * a.checksum === b.checksum && a.count === b.count;
 * @throws ValidationError for a bad namespace or batch size.
 */
export async function checksumNamespace(
  store: MemoryStore,
  namespace: string,
  options?: { batchSize?: number; onProgress?(counted: number): void },
): Promise<NamespaceChecksum> {
  checkStore(store, 'store');
  const ns = validateNamespace(namespace);
  const opts = validateOptions(options, ['batchSize', 'onProgress']) as { batchSize?: number; onProgress?(counted: number): void };
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new ValidationError('options.onProgress', 'must be a function', describe(opts.onProgress));
  const batchSize = validateLimit(opts.batchSize, 'options.batchSize', 5000, 100_000)!;
  const sum = new MemoryChecksum();
  for await (const batch of batchesOf(store, ns, batchSize)) {
    for (const m of batch) sum.add(m);
    opts.onProgress?.(sum.count);
  }
  return { namespace: ns, count: sum.count, checksum: sum.value };
}
