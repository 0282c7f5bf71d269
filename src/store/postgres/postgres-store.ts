/**
 * The production store: PostgreSQL through postgres.js (or the app's own
 * Drizzle database, or PGlite), with a counted connection pool.
 */
import type { ConnectionOptions } from 'node:tls';
import { AIMemoError, ValidationError } from '../../errors';
import type { SchemaNewerInfo } from '../../migrate/schema-version';
import { describe } from '../../validate';
import { SqlStore } from '../sql-store';
import { classifyPostgresSource, describeUrl, ownedPool, sharedConnection, type PostgresConnection } from './connect';
import { mapPostgresError } from './errors';
import type { PoolStatus } from './pool';
import { PostgresRepository } from './postgres-repository';

export type { PoolStatus } from './pool';

/**
 * TLS settings, as postgres.js takes them: `true`, a mode (`'require'`,
 * `'allow'`, `'prefer'`, `'verify-full'`) or Node's `tls.connect` options.
 * Declared here rather than imported from postgres.js, so that an app on
 * SQLite alone type-checks without the optional `postgres` package.
 */
export type PostgresSsl = boolean | 'require' | 'allow' | 'prefer' | 'verify-full' | ConnectionOptions;

/** Options of {@link PostgresStore}. Times are in seconds. Pool options apply only when the store connects by URL. */
export interface PostgresStoreOptions {
  /** Connections kept open when idle. @defaultValue 10 */
  poolSize?: number;
  /** Extra connections opened under load, closed when returned. @defaultValue 10 */
  maxOverflow?: number;
  /** Seconds a caller waits for a free connection before a `PoolTimeoutError`. @defaultValue 30 */
  poolTimeout?: number;
  /** Seconds after which a connection is replaced when returned. @defaultValue 3600 */
  poolRecycle?: number;
  /** Seconds to wait for a new connection before `DatabaseUnavailableError`. @defaultValue 10 */
  connectTimeout?: number;
  /**
   * TLS settings passed to postgres.js. URLs may say `?sslmode=require` instead,
   * as Neon, Supabase and RDS give them.
   */
  ssl?: PostgresSsl;
  /**
   * Create or upgrade the schema on first use with the migrations shipped in
   * the package. With `false`, the store refuses an older schema with a
   * `SchemaOutdatedError` that names the command to run.
   * @defaultValue true
   */
  autoMigrate?: boolean;
  /**
   * Called once, when the store first finds that the database holds
   * migrations this version does not know (a newer version of aimemo migrated
   * it). Without it the store emits a process warning (`AIMEMO_SCHEMA_NEWER`).
   */
  onSchemaNewer?: (info: SchemaNewerInfo) => void;
}

function seconds(options: PostgresStoreOptions, key: keyof PostgresStoreOptions, fallback: number, min: number): number {
  const value = options[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ValidationError(`options.${key}`, `must be a number of at least ${min}`, describe(value));
  }
  return value;
}

function whole(options: PostgresStoreOptions, key: 'poolSize' | 'maxOverflow', fallback: number, min: number): number {
  const value = options[key] ?? fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(`options.${key}`, `must be an integer of at least ${min}`, describe(value));
  }
  return value;
}

/**
 * A {@link MemoryStore} on PostgreSQL. Its tables live in the schema `aimemo`.
 *
 * @example
 * const store = new PostgresStore(process.env.DATABASE_URL!, { poolSize: 20, maxOverflow: 10 });
 * const onAppDb = new PostgresStore(drizzle(appSql)); // the app's connection, never closed by the store
 * @throws ValidationError when `source` or an option is not of an accepted kind.
 */
export class PostgresStore extends SqlStore {
  /** @internal */
  declare protected readonly repository: PostgresRepository;
  readonly #ownsPool: boolean;

  /**
   * @param source - a `postgres://` URL (the store opens and counts its own pool), or the app's own connection:
   * a postgres.js `Sql`, a Drizzle postgres-js or PGlite database, or a PGlite instance (typed as `object` so that
   * neither optional driver is needed to type-check an app that does not use it).
   */
  constructor(source: string | object, options: PostgresStoreOptions = {}) {
    const kind = classifyPostgresSource(source);
    const poolSettings = {
      poolSize: whole(options, 'poolSize', 10, 1),
      maxOverflow: whole(options, 'maxOverflow', 10, 0),
      poolTimeout: seconds(options, 'poolTimeout', 30, 0),
      poolRecycle: seconds(options, 'poolRecycle', 3600, 0),
      connectTimeout: seconds(options, 'connectTimeout', 10, 1),
      ssl: options.ssl,
    };
    const connect = (): PostgresConnection =>
      kind === 'url' ? ownedPool(source as string, poolSettings) : sharedConnection(source, kind);
    const where = kind === 'url' ? describeUrl(source as string) : `the ${kind === 'pglite' ? 'PGlite database' : 'connection'} passed in by the application`;
    super(new PostgresRepository(connect, { autoMigrate: options.autoMigrate ?? true }), (e) => mapPostgresError(e, where), {
      onSchemaNewer: options.onSchemaNewer,
    });
    this.#ownsPool = kind === 'url';
  }

  /**
   * Counted connections of the store's own pool: `{ size, overflow, checkedIn, checkedOut }`.
   * Before the first query every count is 0.
   * @throws AIMemoError (code `UNSUPPORTED`) when the store runs on a connection the app passed in:
   * that pool is the app's, and the store cannot count it.
   */
  getPoolStatus(): PoolStatus {
    if (!this.#ownsPool) {
      throw new AIMemoError('UNSUPPORTED', 'getPoolStatus() counts only the pool a PostgresStore opens from a URL; this store uses a connection the application passed in');
    }
    return this.repository.connection?.status() ?? { size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 };
  }
}
