/**
 * What `PostgresStore` accepts as a database, and how it gets connections.
 *
 * - A URL: the store opens and owns a counted pool ({@link PostgresPool}).
 * - A postgres.js `Sql`, a Drizzle postgres-js database or a Drizzle PGlite
 *   database (or a PGlite instance): the store runs on the app's connection,
 *   cannot count its pool, and never closes it.
 *
 * The drivers are optional and loaded only when used, so an app on SQLite
 * alone needs neither: PGlite an optional peer dependency, postgres.js (3.x)
 * checked where it is loaded ({@link checkPostgresVersion}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { is } from 'drizzle-orm';
import { PgDatabase } from 'drizzle-orm/pg-core';
import type postgresType from 'postgres';
import { AIMemoError, ValidationError } from '../../errors';
import type { AnyPgDatabase } from '../../migrate/postgres';
import { describe } from '../../validate';
import { PostgresPool, type PoolSettings, type PoolStatus } from './pool';
import { runInSession, sessionSetup, withSafeBegin, type CallState, type PoolerMode, type UseOptions } from './session';
import { guardedSocket } from './socket';

export type { PoolerMode, UseOptions } from './session';

/** Where queries go: a pool the store owns, or the app's own connection. */
export interface PostgresConnection {
  /**
   * Runs `fn` on a connection. `client` is the postgres.js client under `db`
   * when the store owns it (a pool from a URL), so statements can run as
   * prepared statements; undefined for the app's own connection. On the
   * store's own connections `db.transaction` never goes through postgres.js's
   * `sql.begin` (see `session.ts`).
   */
  use<T>(fn: (db: AnyPgDatabase, client?: postgresType.Sql) => Promise<T>, options?: UseOptions): Promise<T>;
  /**
   * Every statement inside one `use` runs on the same server session (a slot
   * of the store's pool, PGlite): migrations may then build indexes
   * CONCURRENTLY, outside a transaction (src/migrate/online.ts). False for an
   * app's pool, whose statements may go to any connection.
   */
  pinned?: boolean;
  /** Counted pool status, or null when the connection is the app's. */
  status(): PoolStatus | null;
  close(): Promise<void>;
}

/** A postgres.js `Sql`, recognised by shape. */
export function isPostgresJs(value: unknown): value is postgresType.Sql {
  const v = value as postgresType.Sql;
  return typeof v === 'function' && typeof v.unsafe === 'function' && typeof v.begin === 'function' && typeof v.end === 'function' && typeof v.options === 'object';
}

/** A PGlite instance, recognised by shape. */
function isPGlite(value: unknown): boolean {
  const v = value as { query?: unknown; exec?: unknown; waitReady?: unknown };
  return typeof v === 'object' && v !== null && typeof v.query === 'function' && typeof v.exec === 'function' && 'waitReady' in v;
}

function load<T>(name: string, what: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    throw new AIMemoError('UNSUPPORTED', `${what} needs the package '${name.split('/')[0]}': npm install ${name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]}`, { cause: error });
  }
}

/**
 * The postgres.js release a store on a URL needs: 3.4 or a later 3.x. Version 4
 * is another library (ESM only, a new pool and protocol layer) that this
 * release does not drive. `postgres` is not a peer dependency on purpose:
 * next to drizzle-orm's optional peer `postgres >=3`, npm resolved our range
 * against the newest release (4.x) and refused to install an app that uses
 * SQLite only (ERESOLVE). So the version is checked here, where it is used.
 */
export function checkPostgresVersion(version: string | undefined): void {
  if (version === undefined) return; // not found on disk (a bundle): the driver's own errors will tell
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (m && Number(m[1]) === 3 && Number(m[2]) >= 4) return;
  throw new AIMemoError('UNSUPPORTED', `PostgresStore with a URL needs the package 'postgres' 3.x (3.4 or later); found ${version}: npm install postgres@3`);
}

/** The installed postgres.js version, read from its package.json next to what `require` resolves; undefined if not found. */
function installedPostgresVersion(): string | undefined {
  try {
    let dir = path.dirname(require.resolve('postgres'));
    for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!fs.existsSync(file)) continue;
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'postgres') return manifest.version;
    }
  } catch {
    // not resolvable as a file (bundled): nothing to check
  }
  return undefined;
}

/** Where a URL points, for messages: never the password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || ''}`;
  } catch {
    return '(an unparsable URL)';
  }
}

/** Checks a connection URL without connecting. */
export function checkPostgresUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^postgres(ql)?:$/i.test(parsed.protocol)) {
    throw new ValidationError('url', 'must be a postgres:// or postgresql:// URL', parsed ? `protocol ${parsed.protocol}` : 'an unparsable string');
  }
}

/** Checks the constructor argument without connecting; returns what kind it is. */
export function classifyPostgresSource(source: unknown): 'url' | 'sql' | 'drizzle' | 'pglite' {
  if (typeof source === 'string') {
    checkPostgresUrl(source);
    return 'url';
  }
  if (isPostgresJs(source)) return 'sql';
  if (is(source, PgDatabase)) return 'drizzle';
  if (isPGlite(source)) return 'pglite';
  throw new ValidationError(
    'database',
    'must be a postgres:// URL, a postgres.js Sql, a Drizzle postgres-js or PGlite database, or a PGlite instance',
    describe(source),
  );
}

export interface PoolOptions extends PoolSettings {
  /** Seconds to wait for a new connection, its startup and its session settings included. */
  connectTimeout: number;
  /** Seconds a statement may run; 0 is no limit. */
  statementTimeout: number;
  /** What sits between the store and the server (see `session.ts`). */
  pooler: PoolerMode;
  ssl: postgresType.Options<Record<string, postgresType.PostgresType>>['ssl'] | undefined;
}

/** Rejects with postgres.js's `CONNECT_TIMEOUT` code when `work` has not settled within `ms`. */
function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`no answer from PostgreSQL within connectTimeout (${ms / 1000}s)`), { code: 'CONNECT_TIMEOUT' }));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A counted pool of connections the store opens itself. Each connection is a
 * postgres.js client with one guarded socket (`socket.ts`), set up within
 * `connectTimeout` whatever the peer does, with its session settings sent as
 * statements (`session.ts`), never as startup parameters.
 */
export function ownedPool(url: string, options: PoolOptions): PostgresConnection {
  checkPostgresVersion(installedPostgresVersion());
  const postgres = load<typeof postgresType>('postgres', 'PostgresStore with a URL');
  const { drizzle } = load<typeof import('drizzle-orm/postgres-js')>('drizzle-orm/postgres-js', 'PostgresStore with a URL');
  const settings = { pooler: options.pooler, statementTimeout: options.statementTimeout };
  const pool = new PostgresPool(options, async (onLost) => {
    const guard = guardedSocket(options.connectTimeout * 1000);
    const client = postgres(url, {
      max: 1, // one socket per slot: the pool does the counting
      max_lifetime: null, // recycling is the pool's job (poolRecycle), so counts stay true
      idle_timeout: 0,
      connect_timeout: options.connectTimeout,
      onnotice: () => undefined,
      onclose: onLost, // the server or the network closed the socket
      prepare: options.pooler !== 'transaction',
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      connection: { application_name: 'aimemo' }, // a startup parameter every pooler knows
      // Not in postgres.js's types, but read by its connection.js: a function that returns the socket.
      ...({ socket: guard.socket } as object),
    });
    try {
      // Connects now, so the connection is counted only once it is real.
      await withDeadline(client.unsafe(sessionSetup(settings)).then(() => undefined), options.connectTimeout * 1000, guard.abort);
    } catch (error) {
      guard.abort();
      await client.end({ timeout: 0 }).catch(() => undefined);
      throw error;
    }
    const session = { inTransaction: false };
    const safe = withSafeBegin(client, () => session.inTransaction);
    return { client: safe, db: drizzle({ client: safe }) as unknown as AnyPgDatabase, lastData: guard.lastData, abort: guard.abort, session };
  });
  return {
    use: (fn, useOptions = {}) =>
      pool.use(async (slot) => {
        const call: CallState = { stalled: false };
        try {
          return await runInSession(slot, settings, useOptions, call, () => fn(slot.db, slot.client));
        } catch (error) {
          if (call.stalled) await call.settled; // the socket is gone; hand the slot back only once nothing uses it
          throw error;
        }
      }),
    // Behind a transaction pooler the statements of one call may reach different server sessions.
    pinned: options.pooler !== 'transaction',
    status: () => pool.status(),
    close: () => pool.close(),
  };
}

/** The app's own connection: used as it is, never counted, never closed. */
export function sharedConnection(source: unknown, kind: 'sql' | 'drizzle' | 'pglite'): PostgresConnection {
  let db: AnyPgDatabase;
  if (kind === 'drizzle') db = source as AnyPgDatabase;
  else if (kind === 'pglite') {
    const { drizzle } = load<typeof import('drizzle-orm/pglite')>('drizzle-orm/pglite', 'PostgresStore with PGlite');
    db = drizzle({ client: source as never }) as unknown as AnyPgDatabase;
  } else {
    const { drizzle } = load<typeof import('drizzle-orm/postgres-js')>('drizzle-orm/postgres-js', 'PostgresStore with a postgres.js client');
    db = withoutSideEffects(source as postgresType.Sql, (sql) => drizzle({ client: sql }) as unknown as AnyPgDatabase);
  }
  return { use: (fn) => fn(db), pinned: kind === 'pglite', status: () => null, close: async () => undefined };
}

/**
 * Drizzle's postgres-js driver replaces the client's date and JSON parsers
 * and serializers, which would change what the app's own queries return
 * (dates as strings). Keep the app's client as it was; AIMemo's queries
 * do not depend on those settings (JSON goes in as text cast to jsonb, and
 * Drizzle's column mappers accept both strings and Dates).
 */
function withoutSideEffects<T>(sql: postgresType.Sql, wrap: (sql: postgresType.Sql) => T): T {
  const options = sql.options as unknown as { parsers: Record<string, unknown>; serializers: Record<string, unknown> };
  const parsers = { ...options.parsers };
  const serializers = { ...options.serializers };
  const result = wrap(sql);
  restore(options.parsers, parsers);
  restore(options.serializers, serializers);
  return result;
}

function restore(target: Record<string, unknown>, saved: Record<string, unknown>): void {
  for (const key of Object.keys(target)) if (!(key in saved)) delete target[key];
  Object.assign(target, saved);
}
