/**
 * scripts/check-migrations.js (`npm run db:check`): passes on the repository,
 * and fails, saying why, on copies broken in each way it guards against.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../src/migrate/locate';
import { addMigration, copyMigrations } from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

interface CheckScript {
  checkJournalOrder(folder: string, dialect?: string): string[];
  checkFiles(folder: string): string[];
  checkFtsRepair(folder: string): string[];
  checkGeneratedColumns(folder: string): string[];
}

const root = packageRoot();
const SCRIPT = path.join(root, 'scripts', 'check-migrations.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const checks = require(SCRIPT) as CheckScript;

const tmp = tempDir('db-check');
let copies = 0;
afterAll(() => tmp.cleanup());

function runScript(...args: string[]) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** What drizzle-kit reads, copied, with node_modules linked: a repository to break. */
function repoCopy(): string {
  const dir = tmp.file(`repo-${++copies}`);
  fs.mkdirSync(dir);
  for (const entry of ['drizzle.config.ts', 'package.json', 'tsconfig.json', 'drizzle', 'migrations']) {
    fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

const sqliteCopy = (add: { tag: string; sql: string }[] = []) => copyMigrations('sqlite', tmp.file(`sqlite-${++copies}`), { add });

const RECREATE = [
  'CREATE TABLE `__new_memories` (`rid` integer PRIMARY KEY NOT NULL, `namespace` text NOT NULL, `id` text NOT NULL, `content` text NOT NULL, `metadata` text DEFAULT \'{}\' NOT NULL, `tags` text DEFAULT \'[]\' NOT NULL, `timestamp` integer NOT NULL);',
  'INSERT INTO `__new_memories` SELECT * FROM `memories`;',
  'DROP TABLE `memories`;',
  'ALTER TABLE `__new_memories` RENAME TO `memories`;',
].join('\n--> statement-breakpoint\n');
const REPAIR = [
  'CREATE TRIGGER `memories_fts_ai` AFTER INSERT ON `memories` BEGIN\n  INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);\nEND;',
  "CREATE TRIGGER `memories_fts_ad` AFTER DELETE ON `memories` BEGIN\n  INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);\nEND;",
  "CREATE TRIGGER `memories_fts_au` AFTER UPDATE ON `memories` BEGIN\n  INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);\n  INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);\nEND;",
  "INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');",
  // The search index (0003_search-index): its triggers, and every rid queued again (the recreate renumbers rids).
  'CREATE TRIGGER `memories_index_ai` AFTER INSERT ON `memories` BEGIN\n  INSERT OR IGNORE INTO memories_pending(rid) VALUES (new.rid);\nEND;',
  'CREATE TRIGGER `memories_index_ad` AFTER DELETE ON `memories` BEGIN\n  INSERT OR IGNORE INTO memories_pending(rid) VALUES (old.rid);\nEND;',
  'CREATE TRIGGER `memories_index_au` AFTER UPDATE OF content, namespace, `timestamp`, rid ON `memories` BEGIN\n  INSERT OR IGNORE INTO memories_pending(rid) VALUES (old.rid);\n  INSERT OR IGNORE INTO memories_pending(rid) VALUES (new.rid);\nEND;',
  'INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories_docs;',
  'INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories;',
].join('\n--> statement-breakpoint\n');

describe('scripts/check-migrations.js', () => {
  it('passes on the repository, one line per check, and leaves migrations/ untouched', () => {
    const before = listFiles(path.join(root, 'migrations'));
    const run = runScript();
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const ok = run.stdout.split('\n').filter((line) => line.startsWith('ok '));
    expect(ok).toHaveLength(10);
    expect(ok.join('\n')).toMatch(/sqlite: drizzle-kit generate creates nothing/);
    expect(ok.join('\n')).toMatch(/postgres: drizzle-kit generate creates nothing/);
    expect(listFiles(path.join(root, 'migrations'))).toEqual(before);
  });

  it('fails with exit 1 when the schema and the migrations disagree, without writing the migration', () => {
    const repo = repoCopy();
    const schema = path.join(repo, 'drizzle', 'postgres.ts');
    fs.writeFileSync(schema, fs.readFileSync(schema, 'utf8').replace("id: text('id').notNull(),", "id: text('id').notNull(),\n    source: text('source'),"));
    const before = listFiles(path.join(repo, 'migrations'));
    const run = runScript(repo);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL postgres: drizzle-kit generate creates nothing/);
    expect(run.stdout).toMatch(/ADD COLUMN "source" text/);
    expect(run.stdout).toMatch(/ok +sqlite: drizzle-kit generate creates nothing/);
    expect(listFiles(path.join(repo, 'migrations'))).toEqual(before);
  });

  it('refuses journal entries whose `when` does not increase', () => {
    expect(checks.checkJournalOrder(sqliteCopy(), 'sqlite')).toEqual([]);
    const folder = sqliteCopy([{ tag: '0002_late', sql: 'SELECT 1;' }]);
    const journalFile = path.join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8'));
    const [previous, late] = journal.entries.slice(-2);
    late.when = previous.when; // equal is not later
    fs.writeFileSync(journalFile, JSON.stringify(journal));
    expect(checks.checkJournalOrder(folder, 'sqlite')).toEqual([expect.stringMatching(new RegExp(`^0002_late: 'when' \\d+ .* is not after ${previous.tag}`))]);
  });

  it('refuses a journal entry without its .sql file and a .sql file outside the journal', () => {
    expect(checks.checkFiles(sqliteCopy())).toEqual([]);
    const folder = sqliteCopy();
    fs.renameSync(path.join(folder, '0001_fts5-index.sql'), path.join(folder, '0001_fts5_index.sql'));
    expect(checks.checkFiles(folder)).toEqual([
      expect.stringMatching(/^0001_fts5-index: the journal lists it but 0001_fts5-index.sql is missing/),
      expect.stringMatching(/^0001_fts5_index.sql is not in meta\/_journal.json/),
    ]);
  });

  it('refuses a SQLite migration that recreates memories unless it or a later one repairs the FTS triggers', () => {
    expect(checks.checkFtsRepair(sqliteCopy())).toEqual([]);

    const broken = sqliteCopy([{ tag: '0002_recreate', sql: RECREATE }]);
    expect(checks.checkFtsRepair(broken)).toEqual([expect.stringMatching(/^0002_recreate recreates the memories table .*memories_fts_ai, memories_fts_ad, memories_fts_au, .*INSERT INTO memories_fts\(memories_fts\) VALUES \('rebuild'\)/)]);

    addMigration(broken, '0003_fts5-repair', REPAIR);
    expect(checks.checkFtsRepair(broken)).toEqual([]);
    expect(checks.checkFtsRepair(sqliteCopy([{ tag: '0002_recreate-and-repair', sql: `${RECREATE}\n--> statement-breakpoint\n${REPAIR}` }]))).toEqual([]);

    // The repair must come after the recreate, not before it.
    expect(checks.checkFtsRepair(sqliteCopy([{ tag: '0002_recreate', sql: `${REPAIR}\n--> statement-breakpoint\n${RECREATE}` }]))).toHaveLength(1);
    // A bare DROP TABLE counts too; dropping memories_fts, or saying so in a comment, does not.
    expect(checks.checkFtsRepair(sqliteCopy([{ tag: '0002_drop', sql: 'DROP TABLE IF EXISTS "memories";' }]))).toHaveLength(1);
    expect(checks.checkFtsRepair(sqliteCopy([{ tag: '0002_fts', sql: '-- DROP TABLE `memories` would break the index\nDROP TABLE `memories_fts`;' }]))).toEqual([]);
  });

  it("refuses a SQLite migration that copies rows into the generated column fts_ns (drizzle-kit's recreate does: drizzle-orm #5241)", () => {
    expect(checks.checkGeneratedColumns(sqliteCopy())).toEqual([]);
    const kitOutput = 'INSERT INTO `__new_memories`("rid", "namespace", "id", "content", "metadata", "tags", "timestamp", "fts_ns") SELECT "rid", "namespace", "id", "content", "metadata", "tags", "timestamp", "fts_ns" FROM `memories`;';
    expect(checks.checkGeneratedColumns(sqliteCopy([{ tag: '0003_recreate', sql: kitOutput }]))).toEqual([expect.stringMatching(/^0003_recreate copies rows into the generated column fts_ns/)]);
    const mended = kitOutput.replace(', "fts_ns") SELECT', ') SELECT').replace(', "fts_ns" FROM', ' FROM');
    expect(checks.checkGeneratedColumns(sqliteCopy([{ tag: '0003_recreate', sql: mended }]))).toEqual([]);
  });
});
