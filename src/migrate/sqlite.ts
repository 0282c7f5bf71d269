/**
 * Applies AIMemo's SQLite migrations, safely when several processes open a new
 * database at once.
 *
 * drizzle's own migrator reads the migrations table before its deferred
 * `BEGIN`, so two processes both see "nothing applied" and both apply
 * (drizzle-orm #874). This runner takes `BEGIN IMMEDIATE` (the write lock,
 * waiting up to the busy timeout) before it reads, and records migrations in
 * drizzle's table format, so `drizzle-kit migrate` and this runner agree.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { MEMORIES_FTS, MEMORIES_FTS_TRIGGERS, SEARCH_INDEX, SEARCH_INDEX_TRIGGERS } from '../../drizzle/sqlite';
import { MigrationError, SchemaOutdatedError, type IncompatibleMigration } from '../errors';
import { MIGRATIONS_TABLE, migrateCommand, readMigrations, tagAt } from './locate';
import type { MigrationEvent } from './postgres';
import { COMPAT_TABLE, schemaStatus, type SchemaStatus } from './schema-version';

const TABLE = `"${MIGRATIONS_TABLE}"`;

const tableExists = (db: BetterSqlite3.Database, name: string): boolean =>
  !!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name);

/** `created_at` of the newest applied migration, or null when none (or no table). */
export function appliedSqliteVersion(db: BetterSqlite3.Database): number | null {
  if (!tableExists(db, MIGRATIONS_TABLE)) return null;
  const row = db.prepare(`SELECT created_at FROM ${TABLE} ORDER BY created_at DESC LIMIT 1`).get() as
    | { created_at: number | string }
    | undefined;
  return row ? Number(row.created_at) : null;
}

/** The database's migrations compared with this build's (see schema-version.ts). */
function sqliteStatus(db: BetterSqlite3.Database, folder?: string): SchemaStatus {
  const applied = tableExists(db, MIGRATIONS_TABLE)
    ? (db.prepare(`SELECT hash, created_at FROM ${TABLE} WHERE created_at IS NOT NULL`).all() as { hash: string; created_at: number | string }[]).map((r) => ({
        hash: r.hash,
        createdAt: Number(r.created_at),
      }))
    : [];
  const compat = tableExists(db, COMPAT_TABLE) ? (db.prepare(`SELECT tag, version, reason FROM "${COMPAT_TABLE}"`).all() as IncompatibleMigration[]) : [];
  return schemaStatus(readMigrations('sqlite', folder), applied, compat);
}

/**
 * Brings the schema up to date (`autoMigrate`), or checks that it is
 * (`autoMigrate: false`, throwing {@link SchemaOutdatedError}), and says
 * whether the database holds migrations newer than this build's.
 *
 * @param folder - a drizzle-kit migrations folder to apply instead of the one
 * shipped in the package. Only tests pass it (to run a copy with an extra
 * migration); the stores never do.
 * @throws MigrationError when a migration fails; the whole batch is rolled back.
 */
export function migrateSqlite(
  db: BetterSqlite3.Database,
  autoMigrate: boolean,
  folder?: string,
  options: { onEvent?: (event: MigrationEvent) => void } = {},
): SchemaStatus {
  const migrations = readMigrations('sqlite', folder);
  const latest = migrations[migrations.length - 1];
  const applied = appliedSqliteVersion(db);
  if (applied !== null && applied >= latest.when) return sqliteStatus(db, folder);
  if (!autoMigrate) throw new SchemaOutdatedError(latest.tag, tagAt(migrations, applied), migrateCommand('sqlite'));

  db.exec('BEGIN IMMEDIATE');
  let current = '(setup)';
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
    const now = appliedSqliteVersion(db); // another process may have migrated while we waited
    const insert = db.prepare(`INSERT INTO ${TABLE} ("hash", "created_at") VALUES (?, ?)`);
    for (const m of migrations) {
      if (now !== null && now >= m.when) continue;
      current = m.tag;
      options.onEvent?.({ tag: m.tag, phase: 'start', online: false, at: Date.now() });
      for (const statement of m.statements) db.exec(statement);
      insert.run(m.hash, m.when);
      options.onEvent?.({ tag: m.tag, phase: 'end', online: false, at: Date.now() });
    }
    // `current` names the batch's last migration: the one that left the triggers missing, if they are.
    assertFtsTriggers(db);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw new MigrationError(current, { cause: error });
  }
  return sqliteStatus(db, folder);
}

/**
 * A migration that recreates `memories` (drizzle-kit does so for changes SQLite
 * cannot ALTER) drops the FTS triggers, and the search index's, with the old
 * table. Refuse to finish such a batch rather than leave an index that
 * silently stops updating.
 */
function assertFtsTriggers(db: BetterSqlite3.Database): void {
  const names = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'memories'`)
    .all()
    .map((r) => (r as { name: string }).name);
  const indexed = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(SEARCH_INDEX.pending) !== undefined;
  const missing = [...MEMORIES_FTS_TRIGGERS, ...(indexed ? SEARCH_INDEX_TRIGGERS : [])].filter((t) => !names.includes(t));
  if (missing.length > 0) {
    throw new Error(`the triggers ${missing.join(', ')} (${MEMORIES_FTS} and the search index) are missing after migrating; a migration that recreates memories must recreate them, rebuild ${MEMORIES_FTS} and queue every memory in ${SEARCH_INDEX.pending}`);
  }
}
