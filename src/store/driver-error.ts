/**
 * Driver errors as they may leave the library: with their class and code,
 * never with user data.
 *
 * - Drizzle wraps every driver error in `DrizzleQueryError`, whose message
 *   holds the query's parameters, memory content included. Mappers look at
 *   the driver's own error (its `cause`) and never pass the wrapper on.
 *   Recognised by shape (`query`, `params`, its message), since its `name` is plain `Error`
 *   and an app may hold a second copy of drizzle-orm.
 * - postgres.js puts the statement and every bound value on its errors
 *   (`query`, `parameters`, `args`, `types`; non-writable, so they cannot be
 *   deleted, only left behind in a copy); PGlite puts them in `query`,
 *   `params`, `queryOptions`. PostgreSQL's own `detail`, `where` and
 *   `internal_query` fields quote row values (`Key (id)=(…)`, `JSON data,
 *   line 1: …`), and the message of a data exception (SQLSTATE class 22) or a
 *   syntax error may quote the value it choked on.
 * - SQLite's FTS5 quotes the part of a MATCH expression it could not parse.
 *
 * {@link withoutUserData} returns the error unchanged when none of that is
 * there, else a copy with the same prototype (so `instanceof` and `name` still
 * work) holding only the safe fields, along the whole `cause` chain.
 */
import { AIMemoError } from '../errors';

/** True for Drizzle's `DrizzleQueryError` (PGlite's own errors also carry `query` and `params`, but not this message). */
function isQueryWrapper(e: unknown): e is Error & { cause: unknown } {
  return e instanceof Error && 'query' in e && 'params' in e && e.message.startsWith('Failed query: ');
}

/** The driver's own error under Drizzle's wrappers (unchanged when not wrapped). */
export function unwrapDriverError(error: unknown): unknown {
  let e = error;
  while (isQueryWrapper(e) && e.cause !== undefined) e = e.cause;
  return e;
}

/** Fields a driver error may carry that hold statements, bound values or row data. */
const USER_DATA_FIELDS = new Set([
  'query', 'parameters', 'args', 'types', // postgres.js
  'params', 'queryOptions', // PGlite, Drizzle
  'detail', 'where', 'internal_query', 'internalQuery', 'internal_position', 'internalPosition', // PostgreSQL's error fields
]);

/** A message without the values it quotes, when its kind is one that quotes values. */
function safeMessage(message: string, code: unknown): string {
  if (typeof code !== 'string') return message;
  // PostgreSQL: data exceptions (`invalid input syntax for type json: "…"`, `value "…" is out of range`) and
  // syntax errors (`syntax error in tsquery: "…"`) quote what they could not read.
  if (/^22|^42601$/.test(code)) return message.replace(/: .*$/s, '').replace(/"(?:[^"]|"")*"/g, '"…"');
  // SQLite FTS5: `fts5: syntax error near "…"`.
  if (/^SQLITE_/.test(code) && /^fts5:/.test(message)) return message.replace(/ near .*$/s, '').replace(/"(?:[^"]|"")*"/g, '"…"');
  return message;
}

/** The stack with its first line(s) rebuilt from the new message (the frames are kept). */
function restack(error: Error, name: string, message: string): string | undefined {
  const frames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line)) ?? [];
  return [`${name}: ${message}`, ...frames].join('\n');
}

/**
 * The error without user data (see the module comment). AIMemo's own errors
 * keep their identity; their `cause` is cleaned. Anything else that is not an
 * `Error` comes back as it is.
 */
export function withoutUserData(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 20) return error;
  const unwrapped = unwrapDriverError(error);
  if (unwrapped !== error) return withoutUserData(unwrapped, depth);
  if (isQueryWrapper(error)) {
    // A wrapper with nothing underneath: its message is the query and its parameters.
    return Object.assign(new Error('a database query failed'), { name: 'DatabaseQueryError' });
  }
  const cause = error.cause === undefined ? undefined : withoutUserData(error.cause, depth + 1);
  if (error instanceof AIMemoError) {
    if (cause !== error.cause) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
    return error;
  }
  const code = (error as { code?: unknown }).code;
  const message = safeMessage(error.message, code);
  const names = Object.getOwnPropertyNames(error);
  const dirty = message !== error.message || cause !== error.cause || names.some((key) => USER_DATA_FIELDS.has(key));
  if (!dirty) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const key of names) {
    if (USER_DATA_FIELDS.has(key) || key === 'stack' || key === 'message' || key === 'cause') continue;
    const descriptor = Object.getOwnPropertyDescriptor(error, key)!;
    if ('value' in descriptor) Object.defineProperty(copy, key, { ...descriptor, writable: true, configurable: true });
  }
  const name = error.name;
  Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(copy, 'stack', { value: restack(error, name, message), writable: true, configurable: true, enumerable: false });
  if (cause !== undefined) Object.defineProperty(copy, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return copy;
}
