/**
 * The filter options the reading commands share (`--where`, `--since`,
 * `--until`), parsed and checked as the store checks them, so a bad value is
 * a usage error (exit code 2) that names the option.
 */
import type { Command } from 'commander';
import { validateInstant, type FilterOptions } from '../filter/options';
import { validateWhere, type Where } from '../filter/where';
import { checkedBy, jsonObject } from './options';

/** A `where` filter as JSON, checked. */
export function whereOption(value: string): Where {
  const where = jsonObject(value) as Where;
  return checkedBy(() => (validateWhere(where, '--where'), where))(value);
}

/** A point in time: ISO 8601 with a zone, or a date alone (midnight UTC). */
export function instantOption(): (value: string) => Date {
  return checkedBy((value, field) => validateInstant(value, field)!);
}
/** Adds `--where`, `--since` and `--until` to a command. */
export function withFilterOptions(command: Command): Command {
  return command
    .option('-w, --where <json>', 'only memories whose metadata matches this filter, like \'{"source":"chat","priority":{"$gte":2}}\' (see docs/queries.md)', whereOption)
    .option('--since <time>', 'only memories from this time on (ISO 8601, like 2026-01-31 or 2026-01-31T09:30:00Z)', instantOption())
    .option('--until <time>', 'only memories before this time (exclusive)', instantOption());
}

/** The filter options a command was given, for the store. */
export function filterOf(opts: { where?: Where; since?: Date; until?: Date; tags?: string[] }): FilterOptions {
  return {
    ...(opts.where ? { where: opts.where } : {}),
    ...(opts.since ? { since: opts.since } : {}),
    ...(opts.until ? { until: opts.until } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
  };
}
