/**
 * The opaque cursor of `listPage`: the list position of a page's last memory
 * (its timestamp and id), as base64url JSON with a version, so the next page
 * starts right after it (keyset paging). Apps pass it back unchanged; its
 * contents are not part of the contract.
 */
import { ValidationError } from '../errors';
import type { Memory } from '../types';
import { describe, LIMITS, validateId } from '../validate';
import type { PagePosition } from './repository';

const VERSION = 1;

/** Longest cursor text: an id of 255 characters, escaped, with the rest, in base64. */
const MAX_CURSOR = 4096;

/** Earliest and latest timestamps a memory may have (years 1-9999), in ms. */
const MIN_MS = new Date(0).setUTCFullYear(1, 0, 1); // Date.UTC reads years below 100 as 19xx
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function encodeCursor(last: Memory): string {
  return Buffer.from(JSON.stringify([VERSION, last.timestamp.getTime(), last.id]), 'utf8').toString('base64url');
}

/** @throws ValidationError when the text is not a cursor `listPage` returned. */
export function decodeCursor(value: unknown, field: string): PagePosition {
  const rule = 'must be a cursor a previous listPage returned';
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CURSOR || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new ValidationError(field, rule, describe(value));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError(field, rule);
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== VERSION) throw new ValidationError(field, rule);
  const [, ms, id] = parsed as [number, unknown, unknown];
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < MIN_MS || ms > MAX_MS || typeof id !== 'string' || id.length > LIMITS.idChars) {
    throw new ValidationError(field, rule);
  }
  try {
    return { timestamp: new Date(ms), id: validateId(id, field) };
  } catch {
    throw new ValidationError(field, rule);
  }
}
