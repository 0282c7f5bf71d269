/**
 * SQLite migrations: our runner (src/migrate/sqlite.ts), drizzle-kit's own
 * `migrate`, and the FTS5 index they create, on real files.
 *
 * Old databases ("as released at tag X") are built with drizzle's own migrator
 * on a copy of migrations/sqlite cut at that tag, which records them exactly as
 * `drizzle-kit migrate` would. Child-process tests load the build in dist/
 * (`npm run build` first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as drizzleMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MEMORIES_FTS_TRIGGERS, SEARCH_INDEX_TRIGGERS } from '../../drizzle/sqlite';
import { DatabaseUnavailableError, MigrationError, SchemaOutdatedError, SQLiteStore } from '../../src';
import { MIGRATIONS_TABLE, migrationsFolder } from '../../src/migrate/locate';
import { migrateSqlite } from '../../src/migrate/sqlite';
import {
  addMigration,
  copyMigrations,
  drizzleKit,
  expectedMigrationRows,
  normaliseRows,
  outcomes,
  raceChildren,
  readJournal,
  requireBuild,
  type MigrationRow,
} from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('migrations-sqlite');
let files = 0;
/** A path for a database that does not exist yet. */
const newFile = (label: string) => tmp.file(`${label}-${++files}.db`);

afterAll(() => tmp.cleanup());

const journal = readJournal('sqlite');
const latest = journal[journal.length - 1];
const expectedRows = expectedMigrationRows('sqlite');

/** Opens the file with a connection of the test's own (never the store's). */
function withDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function migrationRows(db: Database.Database): MigrationRow[] {
  return normaliseRows(db.prepare(`SELECT hash, created_at FROM "${MIGRATIONS_TABLE}" ORDER BY id`).all() as MigrationRow[]);
}

/** Everything in the schema, to compare a database before and after. */
function schemaObjects(db: Database.Database): unknown[] {
  return db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`).all();
}

/** Rows of `memories` with their rowid alias, which the FTS index points at. */
function memoryRows(db: Database.Database): { rid: number; id: string; content: string }[] {
  return db.prepare(`SELECT rid, id, content FROM memories ORDER BY rid`).all() as { rid: number; id: string; content: string }[];
}

/** FTS5's own consistency check of the index against `memories`; throws SQLITE_CORRUPT_VTAB when stale. */
function ftsIntegrityCheck(db: Database.Database): void {
  db.exec(`INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)`);
}

/** A full, independent snapshot of a database file. */
function snapshot(file: string) {
  return withDb(file, (db) => {
    const hasTable = (name: string) => !!db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(name);
    return {
      objects: schemaObjects(db),
      migrations: hasTable(MIGRATIONS_TABLE) ? migrationRows(db) : null,
      memories: hasTable('memories') ? memoryRows(db) : null,
    };
  });
}

/** The database as `drizzle-kit migrate` left it when `tag` was the newest release (drizzle's own migrator). */
function databaseAt(tag: string, file: string): string {
  const folder = copyMigrations('sqlite', tmp.file(`upto-${tag}-${++files}`), { upTo: tag });
  withDb(file, (client) => drizzleMigrate(drizzle({ client }), { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE }));
  return file;
}

/** Rows written straight into `memories` with the columns every released version has. */
function insertRaw(file: string, rows: { id: string; content: string }[], namespace: string): void {
  withDb(file, (db) => {
    const insert = db.prepare(`INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES (?, ?, ?, '{}', '[]', ?)`);
    db.transaction(() => rows.forEach((r, i) => insert.run(namespace, r.id, r.content, Date.UTC(2024, 0, 1) + i)))();
  });
}

async function searchIds(store: SQLiteStore, query: string, namespace: string): Promise<string[]> {
  return (await store.search(query, { namespace, limit: 1000 })).map((r) => r.id).sort();
}

describe('SQLite migrations: fresh database', () => {
  it('brings a brand-new file to the latest migration, recording each journal entry once', async () => {
    const file = newFile('fresh');
    const store = new SQLiteStore(file);
    await store.ready();
    await store.save({ id: 'm1', namespace: 'fresh', content: 'The deployment pipeline runs migrations first' });
    expect(await searchIds(store, 'migration', 'fresh')).toEqual(['m1']);
    await store.close();

    withDb(file, (db) => {
      expect(migrationRows(db)).toEqual(expectedRows);
      const names = (type: string) =>
        (db.prepare(`SELECT name FROM sqlite_master WHERE type = ? ORDER BY name`).all(type) as { name: string }[]).map((r) => r.name);
      expect(names('table')).toEqual(expect.arrayContaining(['memories', 'memories_fts', MIGRATIONS_TABLE]));
      expect(names('trigger').sort()).toEqual([...MEMORIES_FTS_TRIGGERS, ...SEARCH_INDEX_TRIGGERS].sort());
      expect(names('index')).toEqual(expect.arrayContaining(['memories_ns_id_uq', 'memories_ns_ts_idx']));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(() => ftsIntegrityCheck(db)).not.toThrow();
    });
  });

  it('is a no-op on an up-to-date file', async () => {
    const file = newFile('twice');
    const first = new SQLiteStore(file);
    await first.ready();
    await first.close();
    const before = snapshot(file);
    const second = new SQLiteStore(file);
    await second.ready();
    await second.close();
    expect(snapshot(file)).toEqual(before);
  });

  it.each([1, 2, 3])('lets six processes open one brand-new file at once (round %i): each migration applied once', async () => {
    requireBuild();
    const file = newFile('race');
    const results = await raceChildren(6, 'sqlite', file);
    expect(outcomes(results)).toEqual(Array(6).fill('ok'));
    withDb(file, (db) => {
      expect(migrationRows(db)).toEqual(expectedRows);
      expect(memoryRows(db).map((r) => r.id).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
      expect(() => ftsIntegrityCheck(db)).not.toThrow();
    });
  });
});

describe('SQLite migrations: autoMigrate: false', () => {
  const previous = journal[journal.length - 2];

  (previous ? it : it.skip)(`refuses a database at ${previous?.tag}, naming ${latest.tag} and drizzle-kit migrate, and writes nothing`, async () => {
    const file = databaseAt(previous.tag, newFile('outdated'));
    insertRaw(file, [{ id: 'old', content: 'written before the upgrade' }], 'outdated');
    const before = snapshot(file);

    const store = new SQLiteStore(file, { autoMigrate: false });
    const error = await store.save({ namespace: 'outdated', content: 'must not be written' }).catch((e: unknown) => e);
    await store.close();

    expect(error).toBeInstanceOf(SchemaOutdatedError);
    const outdated = error as SchemaOutdatedError;
    expect(outdated.expected).toBe(latest.tag);
    expect(outdated.found).toBe(previous.tag);
    expect(outdated.message).toContain(`expected migration ${latest.tag}`);
    expect(outdated.message).toContain(previous.tag);
    expect(outdated.message).toContain('drizzle-kit migrate');
    expect(snapshot(file)).toEqual(before);
  });

  it('refuses a file that does not exist, saying so, and does not create it', async () => {
    const file = newFile('empty');
    const store = new SQLiteStore(file, { autoMigrate: false });
    const error = await store.save({ namespace: 'empty', content: 'must not be written' }).catch((e: unknown) => e);
    await store.close();

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(`cannot open the SQLite database ${file}: no such file (with autoMigrate: false the store never creates one)`);
    expect(fs.existsSync(file)).toBe(false); // no empty database file left behind
  });
});

describe('SQLite migrations: drizzle-kit migrate', () => {
  it('DATABASE_URL=<file> npx drizzle-kit migrate, then autoMigrate: false works and the rows match our runner', async () => {
    const file = newFile('kit');
    const kit = await drizzleKit(['migrate'], { DATABASE_URL: file });
    expect({ code: kit.code, output: kit.output }).toEqual({ code: 0, output: expect.stringContaining('migrations applied successfully') });

    const store = new SQLiteStore(file, { autoMigrate: false });
    await store.save({ id: 'k1', namespace: 'kit', content: 'Applied by drizzle-kit in the deploy pipeline' });
    expect(await searchIds(store, 'pipeline', 'kit')).toEqual(['k1']);
    await store.close();

    const ours = newFile('ours');
    const runner = new SQLiteStore(ours);
    await runner.ready();
    await runner.close();
    const typed = (f: string) =>
      withDb(f, (db) => db.prepare(`SELECT hash, created_at, typeof(created_at) AS type FROM "${MIGRATIONS_TABLE}" ORDER BY id`).all());
    expect(withDb(file, migrationRows)).toEqual(expectedRows);
    expect(typed(file)).toEqual(typed(ours));
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).not.toThrow());
  });
});

describe('SQLite migrations: upgrades keep data', () => {
  const older = journal.slice(0, -1).map((e) => e.tag);

  (older.length ? it.each(older) : it.skip.each(['(none)']))('from %s, the rows written then are searchable afterwards', async (tag) => {
    const file = databaseAt(tag, newFile(`upgrade-${tag}`));
    const old = Array.from({ length: 30 }, (_, i) => ({ id: `old${i}`, content: `${i % 3 === 0 ? 'kiwi' : 'plum'} note number ${i}` }));
    insertRaw(file, old, 'upgrade');
    const ridsBefore = withDb(file, memoryRows);

    const store = new SQLiteStore(file);
    expect(await searchIds(store, 'kiwi', 'upgrade')).toEqual(old.filter((_, i) => i % 3 === 0).map((r) => r.id).sort());
    expect(await store.count('upgrade')).toBe(30);
    await store.save({ id: 'new', namespace: 'upgrade', content: 'a kiwi saved after the upgrade' });
    expect(await searchIds(store, 'kiwi', 'upgrade')).toContain('new');
    await store.close();

    withDb(file, (db) => {
      expect(migrationRows(db)).toEqual(expectedRows);
      expect(memoryRows(db).slice(0, 30)).toEqual(ridsBefore);
      expect(() => ftsIntegrityCheck(db)).not.toThrow();
    });
  });
});

describe('SQLite migrations: VACUUM', () => {
  it('keeps the FTS index in step: rowids are stable, search finds exactly the remaining rows', async () => {
    const file = newFile('vacuum');
    const ns = 'vacuum';
    const store = new SQLiteStore(file);
    const saved = await store.saveMany(
      Array.from({ length: 60 }, (_, i) => ({ id: `v${i}`, namespace: ns, content: `${i % 2 ? 'odd' : 'even'} row tagged mark${i}` })),
    );
    const deleted = new Set(saved.filter((_, i) => i % 3 === 0).map((m) => m.id));
    for (const id of deleted) expect(await store.delete(id, ns)).toBe(true);
    const before = withDb(file, memoryRows);

    withDb(file, (db) => db.exec('VACUUM')); // as a maintenance job would, on its own connection

    expect(withDb(file, memoryRows)).toEqual(before);
    const even = saved.filter((m, i) => i % 2 === 0 && !deleted.has(m.id)).map((m) => m.id).sort();
    expect(await searchIds(store, 'even', ns)).toEqual(even);
    expect(await searchIds(store, 'mark3', ns)).toEqual([]); // deleted
    expect(await searchIds(store, 'mark4', ns)).toEqual(['v4']);
    await store.save({ id: 'after', namespace: ns, content: 'even after the vacuum' });
    expect(await store.delete('v5', ns)).toBe(true);
    expect(await searchIds(store, 'even', ns)).toEqual([...even, 'after'].sort());
    await store.close();
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).not.toThrow());
  });
});

/*
 * A later migration that recreates `memories`.
 *
 * For a change SQLite cannot ALTER (a default, NOT NULL, a column type),
 * drizzle-kit generates CREATE TABLE `__new_memories` / INSERT … SELECT /
 * DROP TABLE `memories` / ALTER TABLE … RENAME (RECREATE below is its output
 * for a new default on `content`, mended as below). Dropping the old table
 * drops the FTS triggers with it: from then on inserts, updates and deletes no
 * longer reach `memories_fts`, and FTS5's integrity-check reports an error.
 *
 * drizzle-kit 0.31 also lists the generated column `fts_ns` in the INSERT …
 * SELECT (drizzle-orm #5241), which SQLite refuses: remove it from both lists
 * by hand (scripts/check-migrations.js fails CI until it is).
 *
 * REPAIR RECIPE. Right after such a migration (or in the same file, after it),
 * add a custom migration, `npm run db:generate:sqlite -- --custom --name fts5-repair`,
 * holding, one statement between each `--> statement-breakpoint`:
 *   1-3. the three CREATE TRIGGER statements (memories_fts_ai, memories_fts_ad,
 *        memories_fts_au) exactly as in 0002_fts5-namespace.sql;
 *   4.   INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
 *   5-7. the three CREATE TRIGGER statements of the search index
 *        (memories_index_ai, memories_index_ad, memories_index_au) exactly as
 *        in 0003_search-index.sql;
 *   8-9. INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories_docs;
 *        INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories;
 * The rebuild re-reads every row of `memories`, and the store re-indexes every
 * queued rid (the recreate may have renumbered them), so it also repairs rows
 * written while the triggers were missing (a database where `drizzle-kit
 * migrate` applied the recreate alone). scripts/check-migrations.js fails CI when a
 * migration recreates `memories` without a repair at or after it, and our
 * runner refuses to commit a batch that leaves the triggers missing.
 */
describe('SQLite migrations: a later migration that recreates memories', () => {
  const RECREATE = [
    'PRAGMA foreign_keys=OFF;',
    'CREATE TABLE `__new_memories` (\n\t`rid` integer PRIMARY KEY NOT NULL,\n\t`namespace` text NOT NULL,\n\t`id` text NOT NULL,\n' +
      "\t`content` text DEFAULT '' NOT NULL,\n\t`metadata` text DEFAULT '{}' NOT NULL,\n\t`tags` text DEFAULT '[]' NOT NULL,\n" +
      "\t`timestamp` integer NOT NULL,\n\t`fts_ns` text GENERATED ALWAYS AS ('ns' || hex(namespace) || '0') VIRTUAL,\n\t`expires_at` integer\n);\n",
    // drizzle-kit's line, without "fts_ns" in either list (drizzle-orm #5241).
    'INSERT INTO `__new_memories`("rid", "namespace", "id", "content", "metadata", "tags", "timestamp", "expires_at") SELECT "rid", "namespace", "id", "content", "metadata", "tags", "timestamp", "expires_at" FROM `memories`;',
    'DROP TABLE `memories`;',
    'ALTER TABLE `__new_memories` RENAME TO `memories`;',
    'PRAGMA foreign_keys=ON;',
    'CREATE UNIQUE INDEX `memories_ns_id_uq` ON `memories` (`namespace`,`id`);',
    'CREATE INDEX `memories_ns_ts_idx` ON `memories` (`namespace`,`timestamp`);',
    'CREATE INDEX `memories_expires_idx` ON `memories` (`expires_at`) WHERE "memories"."expires_at" IS NOT NULL;',
  ].join('--> statement-breakpoint\n');

  /** The repair recipe, with the triggers taken verbatim from 0002_fts5-namespace.sql and 0003_search-index.sql. */
  const REPAIR = (() => {
    const triggersOf = (file: string) => {
      const triggers = fs
        .readFileSync(path.join(migrationsFolder('sqlite'), file), 'utf8')
        .split('--> statement-breakpoint')
        .map((s) => s.replace(/^(\s*--.*\n)*/, '').trim())
        .filter((s) => s.startsWith('CREATE TRIGGER'));
      if (triggers.length !== 3) throw new Error(`expected 3 CREATE TRIGGER statements in ${file}; found ${triggers.length}`);
      return triggers;
    };
    return [
      ...triggersOf('0002_fts5-namespace.sql'),
      "INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');",
      ...triggersOf('0003_search-index.sql'),
      'INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories_docs;',
      'INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories;',
    ].join('\n--> statement-breakpoint\n');
  })();

  const ns = 'recreate';
  const oldRows = Array.from({ length: 12 }, (_, i) => ({ id: `o${i}`, content: `${i % 2 ? 'walnut' : 'hazelnut'} number ${i}` }));

  /** A database at the latest release, filled through the store. */
  async function filledDatabase(label: string): Promise<string> {
    const file = newFile(label);
    const store = new SQLiteStore(file);
    await store.saveMany(oldRows.map((r) => ({ ...r, namespace: ns })));
    await store.close();
    return file;
  }

  let recreateOnly: string;
  let recreateAndRepair: string;
  beforeAll(() => {
    recreateOnly = copyMigrations('sqlite', tmp.file('recreate-only'), { add: [{ tag: '0003_content-default', sql: RECREATE }] });
    recreateAndRepair = copyMigrations('sqlite', tmp.file('recreate-repair'), {
      add: [
        { tag: '0003_content-default', sql: RECREATE },
        { tag: '0004_fts5-repair', sql: REPAIR },
      ],
    });
  });

  it('breaks the FTS index when applied without the repair (drizzle-kit migrate does so)', async () => {
    const file = await filledDatabase('broken');
    withDb(file, (client) => drizzleMigrate(drizzle({ client }), { migrationsFolder: recreateOnly, migrationsTable: MIGRATIONS_TABLE }));
    withDb(file, (db) => expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all()).toEqual([]));

    const store = new SQLiteStore(file, { autoMigrate: false });
    await store.save({ id: 'lost', namespace: ns, content: 'a walnut nobody will find' });
    expect(await searchIds(store, 'walnut', ns)).not.toContain('lost');
    await store.close();
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).toThrow(/malformed|corrupt/i));
  });

  it('our runner refuses to commit the recreate without the repair and leaves the database as it was', async () => {
    const file = await filledDatabase('refused');
    const before = snapshot(file);
    const error = withDb(file, (db) => {
      try {
        migrateSqlite(db, true, recreateOnly);
        return undefined;
      } catch (e) {
        return e;
      }
    });
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/memories_fts_ai.*missing/);
    expect(snapshot(file)).toEqual(before);
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).not.toThrow());

    // The same batch on a brand-new file: nothing at all is left behind.
    const fresh = newFile('refused-fresh');
    expect(() => withDb(fresh, (db) => migrateSqlite(db, true, recreateOnly))).toThrow(MigrationError);
    expect(snapshot(fresh).objects).toEqual([]);
  });

  it('with the repair recipe after it, old and new rows are searchable (our runner, one batch)', async () => {
    const file = await filledDatabase('repaired');
    withDb(file, (db) => migrateSqlite(db, true, recreateAndRepair));
    withDb(file, (db) => {
      expect(migrationRows(db)).toEqual(expectedMigrationRows('sqlite', recreateAndRepair));
      expect(db.prepare(`SELECT dflt_value FROM pragma_table_info('memories') WHERE name = 'content'`).get()).toEqual({ dflt_value: "''" });
    });

    const store = new SQLiteStore(file, { autoMigrate: false }); // the database is newer than the package: fine
    await store.save({ id: 'new', namespace: ns, content: 'a walnut saved after the repair' });
    expect(await store.delete('o1', ns)).toBe(true);
    const walnuts = oldRows.filter((_, i) => i % 2 === 1 && i !== 1).map((r) => r.id);
    expect(await searchIds(store, 'walnut', ns)).toEqual([...walnuts, 'new'].sort());
    expect(await searchIds(store, 'hazelnut', ns)).toEqual(oldRows.filter((_, i) => i % 2 === 0).map((r) => r.id).sort());
    await store.close();
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).not.toThrow());
  });

  it('the repair also mends a database where drizzle-kit applied the recreate alone and rows were written since', async () => {
    const file = await filledDatabase('mended');
    const folder = copyMigrations('sqlite', tmp.file('mend'), { add: [{ tag: '0003_content-default', sql: RECREATE }] });
    withDb(file, (client) => drizzleMigrate(drizzle({ client }), { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE }));
    const broken = new SQLiteStore(file, { autoMigrate: false });
    await broken.save({ id: 'between', namespace: ns, content: 'a walnut written while the triggers were gone' });
    await broken.delete('o3', ns);
    await broken.close();

    addMigration(folder, '0004_fts5-repair', REPAIR);
    withDb(file, (db) => migrateSqlite(db, true, folder));

    const store = new SQLiteStore(file, { autoMigrate: false });
    const walnuts = oldRows.filter((_, i) => i % 2 === 1 && i !== 3).map((r) => r.id);
    expect(await searchIds(store, 'walnut', ns)).toEqual([...walnuts, 'between'].sort());
    await store.close();
    withDb(file, (db) => expect(() => ftsIntegrityCheck(db)).not.toThrow());
  });
});
