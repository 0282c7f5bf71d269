/**
 * The migrations folder of every earlier release, for the upgrade tests.
 *
 * Releases are the versions `releases.json` records (each with the commit it
 * was cut from; a clone need not carry tags) plus any git tag `v*` the checkout
 * has: each release's `migrations/<dialect>` is read from git. Every entry of
 * the current journal that no release ends at stands for a release too (the
 * folder cut after that migration, the last one being the current version),
 * so every point of the history is upgraded from.
 * AIMEMO_UPGRADE_FROM=journal ignores the recorded releases and the tags.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { migrationsFolder, packageRoot, type Dialect } from '../../src/migrate/locate';
import { copyMigrations, readJournal } from './migrations';

export interface Release {
  /** `v0.1.0`, or `journal 0001_fts5-index`. */
  name: string;
  /** A drizzle-kit migrations folder as that release shipped it. */
  folder: string;
}

export interface Releases {
  /** Where the releases came from, for test names and figures. */
  source: string;
  releases: Release[];
}

function git(args: string[]): Buffer {
  return execFileSync('git', args, { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
}

/** A released version as `releases.json` records it. */
export interface RecordedRelease {
  version: string;
  commit: string;
  date: string;
}

/** The versions `releases.json` records, oldest first. */
export function recordedReleases(): RecordedRelease[] {
  const file = path.join(packageRoot(), 'releases.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { releases: RecordedRelease[] }).releases;
}

/** Whether git knows `rev` (a shallow clone may lack old commits). */
function known(rev: string): boolean {
  try {
    git(['cat-file', '-e', `${rev}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every release as a git revision, oldest first: the recorded ones (named
 * `v<version>`, read at their commit) and any other `v*` tag; [] outside a
 * git checkout. A recorded commit this clone lacks fails loudly: the upgrade
 * test must not silently skip a release.
 */
export function releaseTags(): { name: string; rev: string }[] {
  if (process.env.AIMEMO_UPGRADE_FROM === 'journal') return [];
  let tags: string[];
  try {
    tags = git(['tag', '--list', 'v*', '--sort=v:refname']).toString('utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
  const recorded = recordedReleases().map((r) => {
    if (!known(r.commit)) throw new Error(`releases.json: commit ${r.commit} of ${r.version} is not in this clone (fetch the full history)`);
    return { name: `v${r.version}`, rev: r.commit };
  });
  const names = new Set(recorded.map((r) => r.name));
  return [...recorded, ...tags.filter((t) => !names.has(t)).map((t) => ({ name: t, rev: t }))];
}

/** Writes `migrations/<dialect>` as of revision `tag` into `dest`; false when that release had none. */
function checkoutMigrations(tag: string, dialect: Dialect, dest: string): boolean {
  const prefix = `migrations/${dialect}/`;
  const files = git(['ls-tree', '-r', '--name-only', tag, '--', prefix]).toString('utf8').split('\n').filter(Boolean);
  if (!files.some((f) => f === `${prefix}meta/_journal.json`)) return false;
  for (const file of files) {
    const target = path.join(dest, file.slice(prefix.length));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, git(['show', `${tag}:${file}`]));
  }
  return true;
}

/** Every earlier release's migrations for `dialect`, copied under `dir`. */
export function earlierReleases(dialect: Dialect, dir: string): Releases {
  const tagged: Release[] = [];
  for (const { name, rev } of releaseTags()) {
    const folder = path.join(dir, `${dialect}-${name}`);
    if (checkoutMigrations(rev, dialect, folder)) tagged.push({ name, folder });
  }
  const covered = new Set(tagged.map((r) => readJournal(dialect, r.folder).length));
  const journal = readJournal(dialect)
    .filter((_, i) => !covered.has(i + 1))
    .map((entry) => ({
      name: `journal ${entry.tag}`,
      folder: copyMigrations(dialect, path.join(dir, `${dialect}-${entry.tag}`), { upTo: entry.tag }),
    }));
  const entries = (n: number) => `${n} journal entr${n === 1 ? 'y' : 'ies'}`;
  const source = tagged.length ? `${tagged.length} release${tagged.length > 1 ? 's' : ''} + ${entries(journal.length)}` : `${entries(journal.length)}, no releases`;
  return { source, releases: [...tagged, ...journal] };
}

/**
 * Released migrations are append-only: every file a release shipped must be
 * byte-identical in the current folder, and its journal a prefix of the
 * current one. Returns what differs ([] when all is well).
 */
export function releaseDrift(dialect: Dialect, release: Release): string[] {
  const problems: string[] = [];
  const current = readJournal(dialect);
  readJournal(dialect, release.folder).forEach((entry, i) => {
    const now = current[i];
    if (!now || now.tag !== entry.tag || now.when !== entry.when) problems.push(`journal entry ${i} (${entry.tag}) changed or is gone`);
    const file = `${entry.tag}.sql`;
    const then = fs.readFileSync(path.join(release.folder, file));
    const nowFile = path.join(migrationsFolder(dialect), file);
    if (!fs.existsSync(nowFile) || !then.equals(fs.readFileSync(nowFile))) problems.push(`${file} was edited after ${release.name}`);
  });
  return problems;
}
