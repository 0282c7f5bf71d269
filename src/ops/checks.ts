/** Argument checks shared by the operations (export, import, transfer, checksum). */
import { OperationAbortedError, ValidationError } from '../errors';
import type { MemoryStore } from '../types';
import { describe, validateNamespace } from '../validate';

/** Refuses an argument that is not a store (a typo'd variable, a URL string), before any work. */
export function checkStore(value: unknown, field: string): asserts value is MemoryStore {
  const v = value as Partial<MemoryStore> | null;
  if (typeof v !== 'object' || v === null || typeof v.saveMany !== 'function' || typeof v.getAllMemories !== 'function' || typeof v.getAllNamespaces !== 'function') {
    throw new ValidationError(field, 'must be a MemoryStore (an SQLiteStore, a PostgresStore or a custom store)', describe(value));
  }
}

/** A list of namespaces (duplicates dropped), or undefined for all. */
export function checkNamespaces(value: unknown, field = 'options.namespaces'): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of namespaces', describe(value));
  return [...new Set(value.map((ns, i) => validateNamespace(ns, `${field}[${i}]`)))];
}

/** `onProgress` and `signal`, when given, are a function and an AbortSignal. */
export function checkCallbacks(options: { onProgress?: unknown; signal?: unknown }): void {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ValidationError('options.onProgress', 'must be a function', describe(options.onProgress));
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new ValidationError('options.signal', 'must be an AbortSignal', describe(options.signal));
  }
}

/** Throws {@link OperationAbortedError} once `signal` is aborted. */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new OperationAbortedError(what, { cause: signal.reason });
}
