/**
 * Argument parsers shared by the commands. A bad value is a usage error
 * (exit code 2), found while parsing, before any database is opened.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ValidationError } from '../errors';
import type { GlobalOptions } from './io';

/**
 * A parser from one of the library's validators (validate.ts), so the CLI
 * refuses what the store would refuse, with the same rule, before it opens
 * anything: `--namespace ''` is "must be 1-255 characters".
 */
export function checkedBy<T>(validate: (value: string, field: string) => T) {
  return (value: string): T => {
    try {
      return validate(value, 'value');
    } catch (error) {
      if (error instanceof ValidationError) throw new InvalidArgumentError(`${error.message.replace(/^value /, '')}.`);
      throw error;
    }
  };
}

/** The text of `add`: `-` (read stdin) or some text that is not blank. */
export function contentText(value: string): string {
  if (value !== '-' && value.trim() === '') throw new InvalidArgumentError('is blank (only white space): give the text to remember, or - to read it from stdin.');
  return value;
}

/** A positive integer, optionally at most `max`. */
export function positiveInt(max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max.toLocaleString('en-US')}.`);
    }
    return n;
  };
}

/** A non-negative integer. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number of at least 0.');
  return n;
}

/** A positive number of seconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 1) throw new InvalidArgumentError('must be a number of seconds, at least 1.');
  return n;
}

/** Repeatable option: every value kept. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Tags: comma-separated and/or repeated (`-t a,b -t c`). */
export function tagList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((t) => t.trim()).filter((t) => t !== '')];
}

/** A JSON object. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`must be a JSON object (${(error as Error).message}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object, like \'{"source":"chat"}\'.');
  return parsed as Record<string, unknown>;
}

/** The command's own options merged with the global ones. */
export function optionsOf<T>(command: Command): T & GlobalOptions {
  return command.optsWithGlobals<T & GlobalOptions>();
}
