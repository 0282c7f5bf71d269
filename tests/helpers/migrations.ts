/**
 * Helpers for the migration tests: what drizzle-kit's journal says should be
 * recorded, copies of the migrations folder cut at a released tag or with an
 * extra migration, drizzle-kit runs, and racing child processes.
 */
import { execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { migrationsFolder, packageRoot, type Dialect } from '../../src/migrate/locate';

export interface JournalEntry {
  idx: number;
  version: string;
  when: number;
  tag: string;
  breakpoints: boolean;
}

/** The journal drizzle-kit wrote for the dialect (or for a copy in `folder`). */
export function readJournal(dialect: Dialect, folder = migrationsFolder(dialect)): JournalEntry[] {
  return (JSON.parse(fs.readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries;
}

/** A row of `__aimemo_migrations` as drizzle writes it. */
export interface MigrationRow {
  hash: string;
  created_at: number;
}

/**
 * The rows drizzle-kit's migrator records for the journal, worked out here
 * independently of our runner: sha256 of each .sql file, the entry's `when`.
 */
export function expectedMigrationRows(dialect: Dialect, folder = migrationsFolder(dialect)): MigrationRow[] {
  return readJournal(dialect, folder).map((e) => ({
    hash: createHash('sha256').update(fs.readFileSync(path.join(folder, `${e.tag}.sql`), 'utf8')).digest('hex'),
    created_at: e.when,
  }));
}

/** Normalises rows read back from either database (bigint/numeric may come back as strings). */
export function normaliseRows(rows: { hash: unknown; created_at: unknown }[]): MigrationRow[] {
  return rows.map((r) => ({ hash: String(r.hash), created_at: Number(r.created_at) }));
}

/**
 * Copies the dialect's migrations folder to `dest`, cut after the migration
 * `upTo` (the folder as it was when that tag was released), then appends
 * `add` as new journal entries, 1 s apart after the last.
 */
export function copyMigrations(
  dialect: Dialect,
  dest: string,
  options: { upTo?: string; add?: { tag: string; sql: string }[] } = {},
): string {
  fs.cpSync(migrationsFolder(dialect), dest, { recursive: true });
  const journalFile = path.join(dest, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: JournalEntry[] };
  if (options.upTo !== undefined) {
    const cut = journal.entries.findIndex((e) => e.tag === options.upTo);
    if (cut < 0) throw new Error(`no migration ${options.upTo} in the ${dialect} journal`);
    for (const dropped of journal.entries.slice(cut + 1)) fs.rmSync(path.join(dest, `${dropped.tag}.sql`));
    journal.entries = journal.entries.slice(0, cut + 1);
  }
  fs.writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  for (const extra of options.add ?? []) addMigration(dest, extra.tag, extra.sql);
  return dest;
}

/** Appends one migration to a copied folder, as `drizzle-kit generate` would (without a snapshot). */
export function addMigration(folder: string, tag: string, sql: string): void {
  const journalFile = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: JournalEntry[] };
  const last = journal.entries[journal.entries.length - 1];
  journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 1000, tag, breakpoints: true });
  fs.writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  fs.writeFileSync(path.join(folder, `${tag}.sql`), sql);
}

/** Fails early, with the fix, when the child processes would load a missing build. */
export function requireBuild(): void {
  const entry = path.join(packageRoot(), 'dist', 'src', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` before the migration tests`);
}

/**
 * Runs `npx drizzle-kit <args>` in the repository with the repository's
 * drizzle.config.ts, as a deploy pipeline would. Resolves with the exit code
 * and everything it printed.
 */
export function drizzleKit(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['--no', 'drizzle-kit', ...args],
      { cwd: packageRoot(), env: { ...process.env, ...env, NODE_OPTIONS: '' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

export interface ChildResult {
  code: number | null;
  /** What the child printed to stderr: the error when it failed. */
  stderr: string;
}

const CHILD = path.join(__dirname, '..', 'migrations', 'child', 'open-and-save.js');

/**
 * Starts `n` processes that each open a store on `target` (created and
 * migrated on first use) and save one memory with id `p<i>`. All of them load
 * first and are released together, so their migrations really overlap.
 */
export async function raceChildren(n: number, dialect: Dialect, target: string): Promise<ChildResult[]> {
  const children = Array.from({ length: n }, (_, i) =>
    fork(CHILD, [dialect, target, `p${i}`], {
      silent: true,
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: '' },
    }),
  );
  const results = children.map((child) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.resume();
    return new Promise<ChildResult>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  });
  // A child that dies while loading never says 'ready': count its exit instead.
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.once('exit', () => resolve());
  })));
  for (const child of children) if (child.connected) child.send('go');
  return Promise.all(results);
}

/** 'ok' for a child that exited 0, else what it printed: compare with `Array(n).fill('ok')`. */
export function outcomes(results: ChildResult[]): string[] {
  return results.map((r) => (r.code === 0 ? 'ok' : `exit ${r.code}: ${r.stderr}`));
}

/**
 * The migrations a newer aimemo would ship, for one dialect: an additive one,
 * and optionally one that marks itself incompatible with older releases in
 * `__aimemo_compat` (the marker: src/migrate/schema-version.ts, docs/schema.md).
 */
export function newerMigrations(dialect: 'sqlite' | 'postgres', incompatible: boolean): { tag: string; sql: string }[] {
  const table = dialect === 'postgres' ? '"aimemo"."memories"' : '"memories"';
  const compat = dialect === 'postgres' ? '"aimemo"."__aimemo_compat"' : '"__aimemo_compat"';
  const extra = [{ tag: '0100_future-column', sql: `ALTER TABLE ${table} ADD COLUMN "importance" integer DEFAULT 0 NOT NULL;` }];
  if (incompatible) {
    extra.push({
      tag: '0101_future-breaking',
      sql: [
        `CREATE TABLE IF NOT EXISTS ${compat} ("tag" text PRIMARY KEY, "version" text NOT NULL, "reason" text NOT NULL);`,
        `INSERT INTO ${compat} ("tag", "version", "reason") VALUES ('0101_future-breaking', '9.0.0', 'memories.importance is required and computed by the writer') ON CONFLICT DO NOTHING;`,
      ].join('\n--> statement-breakpoint\n'),
    });
  }
  return extra;
}
