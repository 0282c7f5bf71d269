/**
 * Finds the migrations that ship in the package, from wherever it runs: `src/`
 * under ts-jest, `dist/src/` once built, `node_modules/aimemo/dist/src/` once
 * installed. It walks up from this file to AIMemo's own package.json, so no
 * path depends on the working directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';

export type Dialect = 'sqlite' | 'postgres';

/** One migration as drizzle-kit wrote it: the journal's tag and `when`, the file's hash and statements. */
export interface Migration {
  tag: string;
  when: number;
  hash: string;
  statements: string[];
}

let root: string | undefined;

/** The folder holding AIMemo's package.json. */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'aimemo') return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`aimemo: cannot find the package root above ${__dirname}`);
  }
}

/** Absolute path of `migrations/<dialect>` inside the package. */
export function migrationsFolder(dialect: Dialect): string {
  return path.join(packageRoot(), 'migrations', dialect);
}

const cache = new Map<Dialect, Migration[]>();

/**
 * Every migration of the dialect, oldest first: by default the ones shipped in
 * the package (read once, they never change). `folder` points at another
 * drizzle-kit migrations folder instead; tests use it to run the runners on a
 * copy with an extra migration. It is read afresh on every call.
 */
export function readMigrations(dialect: Dialect, folder?: string): Migration[] {
  const known = folder === undefined ? cache.get(dialect) : undefined;
  if (known) return known;
  const dir = folder ?? migrationsFolder(dialect);
  const journal = JSON.parse(fs.readFileSync(path.join(dir, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  const files = readMigrationFiles({ migrationsFolder: dir });
  const migrations = journal.entries.map((entry, i) => ({
    tag: entry.tag,
    when: entry.when,
    hash: files[i].hash,
    statements: files[i].sql.filter((s) => s.trim().length > 0),
  }));
  if (folder === undefined) cache.set(dialect, migrations);
  return migrations;
}

/** The tag of the newest migration applied at `createdAt`, for messages. */
export function tagAt(migrations: Migration[], createdAt: number | null): string | null {
  if (createdAt === null) return null;
  return migrations.find((m) => m.when === createdAt)?.tag ?? `one from ${new Date(createdAt).toISOString()}`;
}

/** Table (and, on PostgreSQL, schema) where applied migrations are recorded, in drizzle's format. */
export const MIGRATIONS_TABLE = '__aimemo_migrations';

/** What a deploy pipeline runs instead of `autoMigrate`. */
export function migrateCommand(dialect: Dialect): string {
  const url = dialect === 'postgres' ? 'postgres://…' : '<path to the .db file>';
  return `DATABASE_URL=${url} npx drizzle-kit migrate --config node_modules/aimemo/drizzle.config.ts`;
}
