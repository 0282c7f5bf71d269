/**
 * Applies AIMemo's PostgreSQL migrations, safely when several processes start
 * at once, and without making readers wait.
 *
 * - One process migrates at a time: an advisory lock (`aimemo:migrations`),
 *   taken by polling `pg_try_advisory_lock`, never by waiting in the lock:
 *   a session waiting inside a statement holds a snapshot, and `CREATE INDEX
 *   CONCURRENTLY` in the process that migrates would wait for it while it
 *   waits for the lock. drizzle's own `migrate()` takes no lock (drizzle-orm #874).
 * - Migrations that are not online run in a transaction each, with
 *   `lock_timeout` 2 s: a statement that needs a lock a long
 *   transaction holds gives up and the transaction is retried later, so
 *   readers never queue behind it for longer than that.
 * - Online migrations (online.ts) run statement by statement outside a
 *   transaction, index statements CONCURRENTLY, when a database that already
 *   holds AIMemo's tables is upgraded and the store has one session to run
 *   them on (a URL, PGlite). A new database gets every migration in one
 *   transaction (nothing to block, all or nothing); so does a store on an
 *   app's own pool, as `drizzle-kit migrate` would.
 *
 * Migrations are recorded in drizzle's table format, in
 * `aimemo.__aimemo_migrations`, so `drizzle-kit migrate` and this runner agree.
 */
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { AIMEMO_SCHEMA } from '../../drizzle/postgres';
import { MigrationError, SchemaOutdatedError, type IncompatibleMigration } from '../errors';
import { unwrapDriverError } from '../store/driver-error';
import { MIGRATIONS_TABLE, migrateCommand, readMigrations, tagAt, type Migration } from './locate';
import { indexQuery, isOnline, onlinePlan, partitionedQuery, quoteIdent, type OnlineStep } from './online';
import { COMPAT_TABLE, schemaStatus, type AppliedRow, type SchemaStatus } from './schema-version';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPgDatabase = PgDatabase<PgQueryResultHKT, any>;

const TABLE = sql.raw(`"${AIMEMO_SCHEMA}"."${MIGRATIONS_TABLE}"`);
const LOCK = sql`hashtext('aimemo:migrations')`;

/** How long a transactional migration waits for a table lock before it is rolled back and retried. */
const LOCK_TIMEOUT = '2s';
/** How often such a transaction is tried before the migration fails. */
const LOCK_ATTEMPTS = 30;

/**
 * `CREATE SCHEMA IF NOT EXISTS "aimemo"`, as drizzle-kit writes it at the top of
 * 0000_init. PostgreSQL checks the CREATE privilege on the database before it
 * looks whether the schema exists, so a role that owns a schema made for it
 * (and has no CREATE on the database) fails on it. The runner has made sure
 * the schema exists by then, so the statement is a no-op and is skipped; the
 * migration file, and the hash recorded for it, stay as released.
 */
const CREATE_OWN_SCHEMA = new RegExp(`^\\s*CREATE SCHEMA IF NOT EXISTS "${AIMEMO_SCHEMA}"\\s*;?\\s*$`, 'i');

/** Rows of `db.execute()`: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** What the runner reports as it goes (tests measure stalls with it; `at` is `Date.now()`). */
export interface MigrationEvent {
  tag: string;
  phase: 'start' | 'end';
  online: boolean;
  at: number;
}

export interface MigrateOptions {
  /**
   * Every statement of `db` runs on one server session (a connection the
   * store owns, PGlite): online migrations may then run outside a
   * transaction. Default false: everything runs in transactions.
   */
  session?: boolean;
  /** Called when each migration starts and ends. */
  onEvent?: (event: MigrationEvent) => void;
}

/** The applied rows and the compatibility markers, or empty lists when the tables do not exist. */
async function readState(db: AnyPgDatabase): Promise<{ applied: AppliedRow[]; compat: IncompatibleMigration[] }> {
  const [tables] = rowsOf<{ m: string | null; c: string | null }>(
    await db.execute(sql`SELECT to_regclass(${`${AIMEMO_SCHEMA}.${MIGRATIONS_TABLE}`})::text AS m, to_regclass(${`${AIMEMO_SCHEMA}.${COMPAT_TABLE}`})::text AS c`),
  );
  const applied = tables?.m
    ? rowsOf<{ hash: string; created_at: string | number | null }>(await db.execute(sql`SELECT hash, created_at FROM ${TABLE}`))
        .filter((r) => r.created_at != null)
        .map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }))
    : [];
  const compat = tables?.c
    ? rowsOf<IncompatibleMigration>(await db.execute(sql.raw(`SELECT tag, version, reason FROM "${AIMEMO_SCHEMA}"."${COMPAT_TABLE}"`)))
    : [];
  return { applied, compat };
}

const newest = (applied: AppliedRow[]): number | null => (applied.length ? Math.max(...applied.map((r) => r.createdAt)) : null);

/** `created_at` of the newest applied migration, or null when none (or no table). */
export async function appliedPostgresVersion(db: AnyPgDatabase): Promise<number | null> {
  return newest((await readState(db)).applied);
}

/**
 * Brings the schema up to date (`autoMigrate`), or checks that it is
 * (`autoMigrate: false`, throwing {@link SchemaOutdatedError}), and says
 * whether the database holds migrations newer than this build's.
 *
 * @param folder - a drizzle-kit migrations folder to apply instead of the one
 * shipped in the package. Only tests pass it (to run a copy with an extra
 * migration); the stores never do.
 * @throws MigrationError when a migration fails: a transactional one is rolled
 * back; an online one keeps the steps it finished and resumes on the next run.
 */
export async function migratePostgres(db: AnyPgDatabase, autoMigrate: boolean, folder?: string, options: MigrateOptions = {}): Promise<SchemaStatus> {
  const migrations = readMigrations('postgres', folder);
  const latest = migrations[migrations.length - 1];
  const before = await readState(db);
  const applied = newest(before.applied);
  if (applied !== null && applied >= latest.when) return schemaStatus(migrations, before.applied, before.compat);
  if (!autoMigrate) throw new SchemaOutdatedError(latest.tag, tagAt(migrations, applied), migrateCommand('postgres'));

  // A new database has no rows and no readers: one transaction, all or nothing. Online steps are for upgrades.
  const online = options.session === true && applied !== null && migrations.some((m) => m.when > applied && isOnline(m));
  const run = new Runner(db, migrations, options);
  try {
    if (online) await run.inSession();
    else await run.inOneTransaction();
  } catch (error) {
    const cause = unwrapDriverError(error); // drizzle's wrapper hides the reason
    const resumable = run.current !== '(setup)' && online ? 'Online steps already done stay done; the next run resumes it' : undefined;
    throw new MigrationError(run.current, { cause, hint: [extensionHint(cause), resumable].filter(Boolean).join('. ') || undefined });
  }
  const after = await readState(db);
  return schemaStatus(migrations, after.applied, after.compat);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** 50-250 ms: how long a process waits before asking for the migration lock again. */
const pollDelay = () => 50 + Math.random() * 200;

class Runner {
  /** The migration being applied, for errors. */
  current = '(setup)';

  constructor(
    private readonly db: AnyPgDatabase,
    private readonly migrations: Migration[],
    private readonly options: MigrateOptions,
  ) {}

  private emit(tag: string, phase: 'start' | 'end', online: boolean): void {
    this.options.onEvent?.({ tag, phase, online, at: Date.now() });
  }

  /** The migrations not applied yet, oldest first. */
  private async pending(tx: AnyPgDatabase): Promise<Migration[]> {
    const now = newest((await readState(tx)).applied); // another process may have migrated while we waited
    return this.migrations.filter((m) => now === null || m.when > now);
  }

  /** Creates the schema and the migrations table when missing (inside a transaction). */
  private async setup(tx: AnyPgDatabase): Promise<void> {
    // CREATE SCHEMA checks the CREATE privilege even with IF NOT EXISTS: only ask when it is missing.
    const [schema] = rowsOf<{ n: number }>(await tx.execute(sql`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${AIMEMO_SCHEMA}`));
    if (!schema || schema.n === 0) await tx.execute(sql.raw(`CREATE SCHEMA IF NOT EXISTS "${AIMEMO_SCHEMA}"`));
    await tx.execute(sql`CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
  }

  private async apply(tx: AnyPgDatabase, m: Migration): Promise<void> {
    this.current = m.tag;
    this.emit(m.tag, 'start', false);
    for (const statement of m.statements) {
      if (CREATE_OWN_SCHEMA.test(statement)) continue;
      await tx.execute(sql.raw(statement));
    }
    await tx.execute(sql`INSERT INTO ${TABLE} ("hash", "created_at") VALUES (${m.hash}, ${m.when})`);
    this.emit(m.tag, 'end', false);
  }

  /**
   * A transaction with `lock_timeout`, retried when a lock could not be had
   * in time (SQLSTATE 55P03): a long transaction elsewhere holds it, and
   * waiting longer would queue every reader of the table behind this one.
   */
  private async transaction(fn: (tx: AnyPgDatabase) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction(async (tx) => {
          await tx.execute(sql.raw(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`));
          await fn(tx as unknown as AnyPgDatabase);
        });
        return;
      } catch (error) {
        if ((unwrapDriverError(error) as { code?: string }).code !== '55P03' || attempt >= LOCK_ATTEMPTS) throw error;
        await sleep(250 + Math.random() * 750);
      }
    }
  }

  /** Everything in one transaction holding the transaction-level lock (an app's own pool; no online steps). */
  async inOneTransaction(): Promise<void> {
    await this.transaction(async (tx) => {
      while (!rowsOf<{ ok: boolean }>(await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${LOCK}) AS ok`))[0]?.ok) await sleep(pollDelay());
      await this.setup(tx);
      for (const m of await this.pending(tx)) await this.apply(tx, m);
    });
  }

  /** On one session holding the session-level lock: transactional runs in transactions, online migrations step by step. */
  async inSession(): Promise<void> {
    while (!rowsOf<{ ok: boolean }>(await this.db.execute(sql`SELECT pg_try_advisory_lock(${LOCK}) AS ok`))[0]?.ok) await sleep(pollDelay());
    const pid = await this.backendPid();
    try {
      await this.transaction((tx) => this.setup(tx));
      const pending = await this.pending(this.db);
      for (let i = 0; i < pending.length; ) {
        if (isOnline(pending[i])) {
          await this.online(pending[i], pid);
          i += 1;
          continue;
        }
        // One transaction each: a lock one migration takes (0003's ALTER TABLE) ends with it, not with the
        // migrations after it (0005 queues every row, which takes seconds on a large table).
        const m = pending[i];
        await this.transaction((tx) => this.apply(tx, m));
        i += 1;
      }
    } finally {
      await this.db.execute(sql`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined); // a lost connection took the lock with it
    }
  }

  /** The SQL of one online step, after mending what a build that died left behind. */
  private async statementFor(step: OnlineStep): Promise<string> {
    if (step.kind === 'plain') return step.sql;
    const [index] = rowsOf<{ valid: boolean; partitioned: boolean }>(await this.db.execute(indexQuery(step.schema, step.name)));
    if (step.kind === 'drop-index') return index?.partitioned ? step.plain : step.sql;
    const [table] = rowsOf<{ partitioned: boolean }>(await this.db.execute(partitionedQuery(step.schema, step.table)));
    if (table?.partitioned) return step.plain;
    // INVALID: a concurrent build that died (this process holds the lock, so nobody is building it now). Build it again.
    if (index && !index.valid) await this.db.execute(sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(step.schema)}.${quoteIdent(step.name)}`));
    return step.sql;
  }

  private async backendPid(): Promise<number> {
    return Number(rowsOf<{ pid: number }>(await this.db.execute(sql`SELECT pg_backend_pid() AS pid`))[0].pid);
  }

  /** One online migration: each step on its own, then the row that records it. */
  private async online(m: Migration, pid: number): Promise<void> {
    this.current = m.tag;
    const steps = onlinePlan(m);
    this.emit(m.tag, 'start', true);
    for (const step of steps) {
      // A transaction-mode pooler (PgBouncer) may send each statement to another server session: the lock would not cover it.
      if ((await this.backendPid()) !== pid) {
        throw new Error('the connection moved to another server session during the migration (a transaction-mode pooler such as PgBouncer?); run migrations over a direct connection');
      }
      await this.db.execute(sql.raw(await this.statementFor(step)));
    }
    await this.db.execute(sql`INSERT INTO ${TABLE} ("hash", "created_at") VALUES (${m.hash}, ${m.when})`);
    this.emit(m.tag, 'end', true);
  }
}

/**
 * What to do when migration 0002 cannot install btree_gin: the extension is
 * missing (PGlite started without it) or the role may not create extensions.
 */
function extensionHint(cause: unknown): string | undefined {
  const message = cause instanceof Error ? cause.message : '';
  if (!/btree_gin/.test(message) && !/permission denied to create extension/.test(message)) return undefined;
  return (
    'AIMemo needs the btree_gin extension (shipped with PostgreSQL). PGlite: new PGlite({ extensions: { btree_gin } }) ' +
    "with btree_gin from '@electric-sql/pglite/contrib/btree_gin'. A role without CREATE on the database: have an " +
    `administrator run CREATE EXTENSION btree_gin SCHEMA ${AIMEMO_SCHEMA}; once`
  );
}
