/**
 * Which database a command uses (`--db`, else `AIMEMO_DB`, else
 * `AIMEMO_DB_PATH`, else `./aimemo.db`) and how it is opened.
 *
 * Commands that write (add, import, transfer's destination, migrate) create or
 * upgrade the schema, as the stores do by default. Commands that only read
 * never change a schema: on an older one they stop with SchemaOutdatedError,
 * and on a SQLite file that does not exist they say so instead of creating it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadFileError, SchemaOutdatedError, ValidationError } from '../errors';
import { describeUrl } from '../store/postgres/connect';
import { PostgresStore } from '../store/postgres/postgres-store';
import { newerSchemaMessage, type SchemaNewerInfo } from '../migrate/schema-version';
import type { SqlStore } from '../store/sql-store';
import { SQLiteStore } from '../store/sqlite/sqlite-store';

/** What to do about a password holding URL delimiters. */
const ENCODE_HINT = 'percent-encode a password that holds @ : / ? # [ ] % or spaces (encodeURIComponent)';

/** A parsed `--db`. */
export type DatabaseSpec = { dialect: 'sqlite'; path: string; label: string } | { dialect: 'postgres'; url: string; label: string };

/** Where `--db` points when it is not given. */
export function defaultDatabase(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIMEMO_DB || env.AIMEMO_DB_PATH || './aimemo.db';
}

/**
 * A PostgreSQL URL (`postgres://`, `postgresql://`), or anything else as a
 * SQLite path (a `file:` prefix is dropped).
 * @throws ValidationError for an empty value, another URL scheme, or a PostgreSQL URL that does not parse.
 */
export function parseDatabase(value: string, option = '--db'): DatabaseSpec {
  const text = value.trim();
  if (text === '') throw new ValidationError(option, 'must be a SQLite file path or a postgres:// URL', 'an empty string');
  if (/^postgres(ql)?:/i.test(text)) {
    // A password with @ or # in it, not percent-encoded, makes the URL point at another host.
    if (/^postgres(ql)?:\/\/[^/]*@[^/]*@/i.test(text) || text.includes('#')) {
      throw new ValidationError(option, `must be a valid PostgreSQL URL; ${ENCODE_HINT}`, 'a URL with more than one @ or a #');
    }
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || !url.host) throw new ValidationError(option, `must be a valid PostgreSQL URL, like postgres://user:password@host:5432/database; ${ENCODE_HINT}`, 'a URL that does not parse');
    return { dialect: 'postgres', url: text, label: `postgres://${describeUrl(text)}` };
  }
  // `user:password@host…` without postgres://: a URL with its scheme lost, never a file name to create (and print).
  if (/^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/)?[^\s/@]+:[^\s/@]*@/i.test(text)) {
    throw new ValidationError(
      option,
      'looks like a URL with a user name and password but does not start with postgres:// or postgresql://; write postgres://user:password@host:5432/database (a SQLite file named like that: prefix it with ./)',
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme && scheme[1].toLowerCase() !== 'file') {
    throw new ValidationError(option, 'must be a SQLite file path or a postgres:// URL', `a ${scheme[1]}:// URL`);
  }
  const file = text.replace(/^file:(\/\/)?/, '');
  if (file === ':memory:') throw new ValidationError(option, 'must be a file: an in-memory database would be gone when the command ends');
  return { dialect: 'sqlite', path: path.resolve(file), label: path.resolve(file) };
}

export interface OpenOptions {
  /**
   * `true`: create or upgrade the schema (commands that write); `false`: open
   * SQLite files read-only and never migrate (commands that read);
   * `'maintain'`: writable, but never migrate (optimize).
   */
  write: boolean | 'maintain';
  /** Seconds to wait for a PostgreSQL connection. */
  connectTimeout?: number;
  /** When the database holds migrations newer than this version's; default: a warning on stderr. */
  onSchemaNewer?: (info: SchemaNewerInfo) => void;
}

/** The CLI's default report of a newer schema: one line on stderr. */
const warnNewer = (info: SchemaNewerInfo) => process.stderr.write(`aimemo: warning: ${newerSchemaMessage(info)}\n`);

/** Opens the store and connects now, so a bad database fails before any work starts. */
export async function openStore(spec: DatabaseSpec, options: OpenOptions): Promise<SqlStore> {
  let store: SqlStore;
  if (spec.dialect === 'sqlite') {
    if (options.write !== true && !fs.existsSync(spec.path)) {
      throw new BadFileError(spec.path, 'no such database file (pass --db or set AIMEMO_DB; `aimemo migrate` creates one)');
    }
    if (fs.existsSync(spec.path) && !fs.statSync(spec.path).isFile()) throw new BadFileError(spec.path, 'is not a file');
    // Commands that only read open the file read-only: they change nothing, and work on files they may not write.
    store = new SQLiteStore(spec.path, { autoMigrate: options.write === true, readonly: options.write === false, onSchemaNewer: options.onSchemaNewer ?? warnNewer });
  } else {
    store = new PostgresStore(spec.url, {
      poolSize: 2,
      maxOverflow: 2,
      connectTimeout: options.connectTimeout ?? 10,
      autoMigrate: options.write === true,
      onSchemaNewer: options.onSchemaNewer ?? warnNewer,
    });
  }
  try {
    await store.ready();
  } catch (error) {
    await store.close().catch(() => undefined);
    if (error instanceof SchemaOutdatedError) {
      throw new SchemaOutdatedError(error.expected, error.found, `aimemo migrate --db ${spec.dialect === 'postgres' ? "'postgres://…'" : spec.label}`, '');
    }
    throw error;
  }
  return store;
}

/** Runs `fn` on the store named by the global options, closing it afterwards. */
export async function withStore<T>(
  opts: { db?: string; connectTimeout?: number },
  write: OpenOptions['write'],
  fn: (store: SqlStore, spec: DatabaseSpec) => Promise<T>,
): Promise<T> {
  const spec = parseDatabase(opts.db ?? defaultDatabase());
  const store = await openStore(spec, { write, connectTimeout: opts.connectTimeout });
  try {
    return await fn(store, spec);
  } finally {
    await store.close();
  }
}
