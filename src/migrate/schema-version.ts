/**
 * What a database's migrations table says about its schema compared with the
 * migrations this build ships: up to date, older (pending migrations), or
 * newer (written by a later version of aimemo: a rollback, or an old process
 * in a rolling deploy).
 *
 * drizzle's migrations table holds a hash and a `created_at` (the journal's
 * `when`) per migration, not tags or versions; drizzle applies every journal
 * entry whose `when` is later than the newest row's. So a row with a later
 * `created_at` than this build's newest migration is a migration this build
 * does not know. (A known `when` with another hash is a file whose bytes
 * differ, say line endings: not a newer schema.)
 *
 * Whether an older build may go on writing is said by the newer migration
 * itself, in the database, where this build can read it: a migration that
 * older releases must not write past inserts a row into the compatibility
 * table (docs/schema.md, "Incompatible migrations"):
 *
 *   CREATE TABLE IF NOT EXISTS __aimemo_compat (tag text PRIMARY KEY, version text NOT NULL, reason text NOT NULL);
 *   INSERT INTO __aimemo_compat (tag, version, reason) VALUES ('0007_x', '0.3.0', 'why') ON CONFLICT DO NOTHING;
 *
 * (in schema `aimemo` on PostgreSQL). A row whose tag this build's journal
 * does not hold makes this build refuse writes with SchemaTooNewError.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SchemaTooNewError, type IncompatibleMigration, type NewerMigration } from '../errors';
import { packageRoot, type Migration } from './locate';

/** Table of migrations marked incompatible with the releases that do not know them; created by such a migration. */
export const COMPAT_TABLE = '__aimemo_compat';

/** A row of the migrations table. */
export interface AppliedRow {
  hash: string;
  createdAt: number;
}

/**
 * What the database holds beyond this build's migrations (empty lists when
 * nothing newer): what `onSchemaNewer` receives.
 */
export interface SchemaNewerInfo {
  /** This build's version (package.json). */
  version: string;
  /** This build's newest migration. */
  latest: string;
  /** Migrations applied to the database that this build does not know, oldest first. */
  newer: NewerMigration[];
  /** Of those, the ones marked incompatible with older releases. */
  incompatible: IncompatibleMigration[];
}

/** The comparison itself, as the runners return it (the same shape). */
export type SchemaStatus = SchemaNewerInfo;

let version: string | undefined;

/** This build's version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/**
 * Compares the applied rows (and the compatibility table's rows, when that
 * table exists) with this build's migrations.
 */
export function schemaStatus(migrations: Migration[], applied: AppliedRow[], compat: IncompatibleMigration[]): SchemaStatus {
  const latest = migrations[migrations.length - 1];
  const known = new Set(migrations.map((m) => m.tag));
  const newer = applied
    .filter((r) => r.createdAt > latest.when)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => ({ generatedAt: new Date(r.createdAt).toISOString(), hash: r.hash }));
  return { version: packageVersion(), latest: latest.tag, newer, incompatible: compat.filter((c) => !known.has(c.tag)) };
}

/** One line naming both sides, for warnings, `aimemo migrate --check` and logs. */
export function newerSchemaMessage(status: SchemaStatus): string {
  const newest = status.newer[status.newer.length - 1];
  const by = status.incompatible.length ? `aimemo ${status.incompatible[0].version} or later` : 'a newer version of aimemo';
  const what =
    `the database schema is newer than this aimemo ${status.version} knows: it holds ${status.newer.length} migration${status.newer.length === 1 ? '' : 's'} ` +
    `written by ${by} (newest generated ${newest?.generatedAt ?? 'unknown'}), after this version's newest, ${status.latest}`;
  return status.incompatible.length
    ? `${what}; ${status.incompatible.map((c) => `${c.tag} is incompatible with older releases (${c.reason})`).join('; ')}: writes are refused`
    : `${what}; none of them is marked incompatible with older releases, so reads and writes go on (upgrade aimemo when you can)`;
}

/** The error writes get on a database with an incompatible newer migration, or undefined. */
export function tooNewError(status: SchemaStatus | undefined): SchemaTooNewError | undefined {
  if (!status || status.incompatible.length === 0) return undefined;
  return new SchemaTooNewError(status.version, status.latest, status.incompatible);
}
