/**
 * `update(id, patch)`: the patch checked before anything runs, and applied to
 * the current memory inside the dialect's transaction (so the merge reads
 * exactly what it replaces).
 */
import { ValidationError } from '../errors';
import type { Json, Memory, MemoryPatch } from '../types';
import { describe, validateContent, validateExpiry, validateMetadata, validateTags, validateTimestamp } from '../validate';

/** A {@link MemoryPatch} after {@link validatePatch}: fields copied and checked; `undefined` fields stay as they are. */
export type CheckedPatch = MemoryPatch;

const FIELDS = ['content', 'tags', 'metadata', 'timestamp', 'expiresAt', 'ttl'];

/** Checks a patch; every field is optional, but at least one must be given. */
export function validatePatch(value: unknown, field = 'patch'): CheckedPatch {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(field, `must be an object with some of ${FIELDS.join(', ')}`, describe(value));
  const p = value as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => p[k] !== undefined && !FIELDS.includes(k));
  if (unknown.length > 0) throw new ValidationError(`${field}.${unknown[0].slice(0, 40)}`, `is not a field update changes (${FIELDS.join(', ')})`);
  const checked: CheckedPatch = {};
  if (p.content !== undefined) checked.content = validateContent(p.content, `${field}.content`);
  if (p.tags !== undefined) checked.tags = validateTags(p.tags, `${field}.tags`);
  if (p.metadata !== undefined) checked.metadata = validateMetadata(p.metadata, `${field}.metadata`);
  if (p.timestamp !== undefined) checked.timestamp = p.timestamp === 'now' ? 'now' : validateTimestampOrNow(p.timestamp, `${field}.timestamp`);
  const expiry = validateExpiry(p.expiresAt, p.ttl, field);
  if (p.expiresAt !== undefined) checked.expiresAt = expiry.expiresAt ?? null;
  if (expiry.ttl !== undefined) checked.ttl = expiry.ttl;
  if (Object.keys(checked).length === 0) throw new ValidationError(field, `must change something: give at least one of ${FIELDS.join(', ')}`);
  return checked;
}

function validateTimestampOrNow(value: unknown, field: string): Date {
  if (!(value instanceof Date)) throw new ValidationError(field, "must be a Date or 'now'", describe(value));
  return validateTimestamp(value, field)!;
}

/**
 * RFC 7396 JSON Merge Patch: an object patch merges key by key (recursively),
 * `null` deletes a key, anything else replaces the value.
 */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, Json> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? Object.fromEntries(Object.entries(target)) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else {
      const merged = mergePatch(Object.prototype.hasOwnProperty.call(result, key) ? result[key] : undefined, value);
      // defineProperty, not `=`: a key "__proto__" must stay a key, not set the prototype.
      Object.defineProperty(result, key, { value: merged, enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

/**
 * The memory after the patch, at `now`. The merged metadata is checked again
 * (it may grow past 64 KiB): a `ValidationError` here rolls the update back.
 */
export function applyPatch(current: Memory, patch: CheckedPatch, now: Date): Memory {
  const next: Memory = {
    id: current.id,
    namespace: current.namespace,
    content: patch.content ?? current.content,
    metadata: patch.metadata ? validateMetadata(mergePatch(current.metadata, patch.metadata), 'patch.metadata (merged)') : current.metadata,
    tags: patch.tags ?? current.tags,
    timestamp: patch.timestamp === 'now' ? new Date(now.getTime()) : (patch.timestamp ?? current.timestamp),
  };
  const expiresAt = patch.ttl !== undefined ? new Date(now.getTime() + patch.ttl * 1000) : patch.expiresAt !== undefined ? patch.expiresAt : current.expiresAt;
  if (expiresAt) next.expiresAt = expiresAt;
  return next;
}
