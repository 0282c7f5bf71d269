/**
 * The options every read and `deleteMany` share: tags, a metadata filter
 * (`where`) and a time range (`since`, `until`), checked once by the
 * `SqlStore` template into what the dialects compile.
 */
import { ValidationError } from '../errors';
import { describe, validateIsoTimestamp, validateTags, validateTimestamp } from '../validate';
import { validateWhere, type Where, type WhereNode } from './where';

/** What narrows the memories a read sees, besides its words. */
export interface FilterOptions {
  /** Only memories carrying all of these tags. */
  tags?: string[];
  /** Only memories whose metadata satisfies this filter (see docs/queries.md). */
  where?: Where;
  /** Only memories with a `timestamp` at or after this time: a `Date` or an ISO 8601 string. */
  since?: Date | string;
  /** Only memories with a `timestamp` before this time (exclusive): a `Date` or an ISO 8601 string. */
  until?: Date | string;
}

/** Checked {@link FilterOptions}. */
export interface CheckedFilter {
  tags: string[];
  where: WhereNode | undefined;
  since: Date | undefined;
  until: Date | undefined;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A point in time given as a `Date` or an ISO 8601 string: a date and time
 * with a zone (`2026-01-31T09:30:00Z`, `…+02:00`) or a date alone
 * (`2026-01-31`, midnight UTC, as `new Date('2026-01-31')` reads it).
 */
export function validateInstant(value: unknown, field: string): Date | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return validateTimestamp(value, field);
  if (typeof value === 'string') {
    const day = DATE_ONLY.exec(value);
    if (day) return validateIsoTimestamp(`${value}T00:00:00Z`, field);
    return validateIsoTimestamp(value, field);
  }
  throw new ValidationError(field, 'must be a Date or an ISO 8601 string, like 2026-01-31 or 2026-01-31T09:30:00Z', describe(value));
}

/** Checks tags, `where`, `since` and `until`; `prefix` names the options object (`options.`). */
export function validateFilter(opts: FilterOptions, prefix = 'options.'): CheckedFilter {
  return {
    tags: validateTags(opts.tags, `${prefix}tags`),
    where: validateWhere(opts.where, `${prefix}where`),
    since: validateInstant(opts.since, `${prefix}since`),
    until: validateInstant(opts.until, `${prefix}until`),
  };
}
