/**
 * The production store: PostgreSQL through postgres.js (or the app's own
 * Drizzle database, or PGlite), with a counted connection pool.
 */
import type { ConnectionOptions } from 'node:tls';
import { AIMemoError, ValidationError } from '../../errors';
import type { SchemaNewerInfo } from '../../migrate/schema-version';
import { describe, validateOptions, validateSeconds } from '../../validate';
import { SqlStore } from '../sql-store';
import { classifyPostgresSource, describeUrl, ownedPool, sharedConnection, type PostgresConnection } from './connect';
import type { PoolerMode } from './pooler';
import { mapPostgresError } from './errors';
import type { PoolStatus } from './pool';
import { PostgresRepository } from './postgres-repository';

export type { PoolStatus } from './pool';
export type { PoolerMode } from './pooler';

/**
 * TLS settings, as postgres.js takes them: `true`, a mode (`'require'`,
 * `'allow'`, `'prefer'`, `'verify-full'`) or Node's `tls.connect` options.
 * Declared here rather than imported from postgres.js, so that an app on
 * SQLite alone type-checks without the optional `postgres` package.
 */
export type PostgresSsl = boolean | 'require' | 'allow' | 'prefer' | 'verify-full' | ConnectionOptions;

/**
 * Options of {@link PostgresStore}. Times are in seconds, at most 2,147,483
 * (Node's timers hold about 24.8 days); fractions are allowed. Pool,
 * timeout and pooler options apply only when the store connects by URL.
 */
export interface PostgresStoreOptions {
  /** Connections kept open when idle (1 or more). @defaultValue 10 */
  poolSize?: number;
  /** Extra connections opened under load, closed when returned (0 or more). @defaultValue 10 */
  maxOverflow?: number;
  /** Seconds a caller waits for a free connection before a `PoolTimeoutError` (0 or more). @defaultValue 30 */
  poolTimeout?: number;
  /** Seconds after which a connection is replaced when returned (0 or more). @defaultValue 3600 */
  poolRecycle?: number;
  /**
   * Seconds to open a connection (socket, TLS, startup, session settings)
   * before `DatabaseUnavailableError`, whatever the other end does (1 or more).
   * @defaultValue 10
   */
  connectTimeout?: number;
  /**
   * Seconds a statement may run before the server cancels it and the call
   * fails with `QueryTimeoutError` (PostgreSQL's `statement_timeout`); a
   * server that stops answering fails the call 2 s later. 0 is no limit.
   * Migrations and `optimize()` are not limited.
   * @defaultValue 0
   */
  statementTimeout?: number;
  /**
   * What sits between the store and the server. `'none'`: the server itself,
   * or a pooler in session mode. `'transaction'`: a pooler in transaction
   * mode (PgBouncer `pool_mode = transaction`, Supabase's port 6543, Neon's
   * `-pooler` host): prepared statements are off and `statementTimeout` is
   * set inside each call's own transaction, so the pooler keeps it. Either
   * way the store sends no startup parameter a pooler could refuse.
   * @defaultValue 'none'
   */
  pooler?: PoolerMode;
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

const OPTIONS = ['poolSize', 'maxOverflow', 'poolTimeout', 'poolRecycle', 'connectTimeout', 'statementTimeout', 'pooler', 'ssl', 'autoMigrate', 'onSchemaNewer'] as const;

function whole(value: unknown, key: 'poolSize' | 'maxOverflow', fallback: number, min: number): number {
  const n = value ?? fallback;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > 10_000) {
    throw new ValidationError(`options.${key}`, `must be an integer from ${min} to 10,000`, describe(n));
  }
  return n;
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
  constructor(source: string | object, options?: PostgresStoreOptions) {
    const kind = classifyPostgresSource(source);
    const opts = validateOptions(options, OPTIONS);
    const pooler = opts.pooler ?? 'none';
    if (pooler !== 'none' && pooler !== 'transaction') throw new ValidationError('options.pooler', "must be 'none' or 'transaction'", describe(pooler));
    const autoMigrate = opts.autoMigrate ?? true;
    if (typeof autoMigrate !== 'boolean') throw new ValidationError('options.autoMigrate', 'must be a boolean', describe(autoMigrate));
    const poolSettings = {
      poolSize: whole(opts.poolSize, 'poolSize', 10, 1),
      maxOverflow: whole(opts.maxOverflow, 'maxOverflow', 10, 0),
      poolTimeout: validateSeconds(opts.poolTimeout, 'options.poolTimeout', 30, 0),
      poolRecycle: validateSeconds(opts.poolRecycle, 'options.poolRecycle', 3600, 0),
      connectTimeout: validateSeconds(opts.connectTimeout, 'options.connectTimeout', 10, 1),
      statementTimeout: validateSeconds(opts.statementTimeout, 'options.statementTimeout', 0, 0),
      pooler: pooler as PoolerMode,
      ssl: opts.ssl as PostgresStoreOptions['ssl'],
    };
    const connect = (): PostgresConnection =>
      kind === 'url' ? ownedPool(source as string, poolSettings) : sharedConnection(source, kind);
    const where = kind === 'url' ? describeUrl(source as string) : `the ${kind === 'pglite' ? 'PGlite database' : 'connection'} passed in by the application`;
    if (opts.onSchemaNewer !== undefined && typeof opts.onSchemaNewer !== 'function') {
      throw new ValidationError('options.onSchemaNewer', 'must be a function', describe(opts.onSchemaNewer));
    }
    super(new PostgresRepository(connect, { autoMigrate }), (e) => mapPostgresError(e, where, poolSettings.statementTimeout), {
      onSchemaNewer: opts.onSchemaNewer as PostgresStoreOptions['onSchemaNewer'],
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
