/**
 * Applies AIMemo's PostgreSQL migrations, safely when several processes start
 * at once: the whole batch runs in one transaction holding a transaction-level
 * advisory lock, so a second process waits, then finds everything applied.
 * drizzle's own `migrate()` takes no lock (drizzle-orm #874). Migrations are
 * recorded in drizzle's table format, in `aimemo.__aimemo_migrations`, so
 * `drizzle-kit migrate` and this runner agree.
 */
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { AIMEMO_SCHEMA } from '../../drizzle/postgres';
import { MigrationError, SchemaOutdatedError } from '../errors';
import { unwrapDriverError } from '../store/driver-error';
import { MIGRATIONS_TABLE, migrateCommand, readMigrations, tagAt } from './locate';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPgDatabase = PgDatabase<PgQueryResultHKT, any>;

const TABLE = sql.raw(`"${AIMEMO_SCHEMA}"."${MIGRATIONS_TABLE}"`);
const LOCK_KEY = 'aimemo:migrations';

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

/** `created_at` of the newest applied migration, or null when none (or no table). */
export async function appliedPostgresVersion(db: AnyPgDatabase): Promise<number | null> {
  const [table] = rowsOf<{ t: string | null }>(
    await db.execute(sql`SELECT to_regclass(${`${AIMEMO_SCHEMA}.${MIGRATIONS_TABLE}`})::text AS t`),
  );
  if (!table?.t) return null;
  const [row] = rowsOf<{ created_at: string | number | null }>(
    await db.execute(sql`SELECT max(created_at) AS created_at FROM ${TABLE}`),
  );
  return row?.created_at == null ? null : Number(row.created_at);
}

/**
 * Brings the schema up to date (`autoMigrate`), or checks that it is
 * (`autoMigrate: false`, throwing {@link SchemaOutdatedError}).
 *
 * @param folder - a drizzle-kit migrations folder to apply instead of the one
 * shipped in the package. Only tests pass it (to run a copy with an extra
 * migration); the stores never do.
 * @throws MigrationError when a migration fails; the whole batch is rolled back.
 */
export async function migratePostgres(db: AnyPgDatabase, autoMigrate: boolean, folder?: string): Promise<void> {
  const migrations = readMigrations('postgres', folder);
  const latest = migrations[migrations.length - 1];
  const applied = await appliedPostgresVersion(db);
  if (applied !== null && applied >= latest.when) return;
  if (!autoMigrate) throw new SchemaOutdatedError(latest.tag, tagAt(migrations, applied), migrateCommand('postgres'));

  let current = '(setup)';
  try {
    await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`);
      // CREATE SCHEMA checks the CREATE privilege even with IF NOT EXISTS: only ask when it is missing.
      const [schema] = rowsOf<{ n: number }>(
        await tx.execute(sql`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${AIMEMO_SCHEMA}`),
      );
      if (!schema || schema.n === 0) await tx.execute(sql.raw(`CREATE SCHEMA IF NOT EXISTS "${AIMEMO_SCHEMA}"`));
      await tx.execute(sql`CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const now = await appliedPostgresVersion(tx as unknown as AnyPgDatabase); // another process may have migrated while we waited
      for (const m of migrations) {
        if (now !== null && now >= m.when) continue;
        current = m.tag;
        for (const statement of m.statements) {
          if (CREATE_OWN_SCHEMA.test(statement)) continue;
          await tx.execute(sql.raw(statement));
        }
        await tx.execute(sql`INSERT INTO ${TABLE} ("hash", "created_at") VALUES (${m.hash}, ${m.when})`);
      }
    });
  } catch (error) {
    const cause = unwrapDriverError(error); // drizzle's wrapper hides the reason
    throw new MigrationError(current, { cause, hint: extensionHint(cause) });
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
