/**
 * Reader and writer stalls while this build upgrades a database of every
 * earlier release, as a markdown table: `npm run test:upgrade-stalls -- [options]`.
 *
 *   --rows 1m            memories in the database before the upgrade (10k, 100k, 1m, or a number; default 10k)
 *   --backend postgres   postgres, sqlite or both (default both; PostgreSQL needs AIMEMO_TEST_PG_URL)
 *   --transactional      PostgreSQL: also run every upgrade as drizzle-kit migrate (and aimemo 0.1.0) did,
 *                        all migrations in one transaction, for comparison
 *   --from v0.1.0        only upgrades from these starting points (a comma-separated list of release names,
 *                        e.g. v0.1.0, or journal tags, e.g. 'journal 0002_fts5-namespace'); default: every one
 *
 * Each PostgreSQL run uses a database of its own on the server (created and
 * dropped); SQLite files go under the system temp dir. How it measures:
 * tests/helpers/stalls.ts. At 1,000,000 memories expect several minutes per
 * release on two cores; run it on a quiet machine.
 */
import { PG_URL, createTestDatabase } from '../tests/helpers/postgres';
import { earlierReleases } from '../tests/helpers/releases';
import { markdown, measurePostgres, measureSqlite, type StallReport } from '../tests/helpers/stalls';
import { tempDir } from '../tests/helpers/temp';

function parseRows(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`--rows must be a number like 10000, 100k or 1m; got ${text}`);
  return Math.round(Number(m[1]) * ({ k: 1e3, m: 1e6 } as Record<string, number>)[m[2].toLowerCase()] || Number(m[1]));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rows = parseRows(option('--rows') ?? '10k');
  const backend = option('--backend') ?? 'both';
  const modes: StallReport['mode'][] = args.includes('--transactional') ? ['transaction', 'online'] : ['online'];
  const from = option('--from')?.split(',').map((x) => x.trim());
  const starting = <T extends { name: string }>(releases: T[]): T[] => {
    if (!from) return releases;
    const unknown = from.filter((f) => !releases.some((r) => r.name === f));
    if (unknown.length) throw new Error(`--from: no starting point named ${unknown.join(', ')}; known: ${releases.map((r) => r.name).join(', ')}`);
    return releases.filter((r) => from.includes(r.name));
  };
  const tmp = tempDir('upgrade-stalls');
  const reports: StallReport[] = [];
  try {
    if (backend !== 'postgres') {
      for (const release of starting(earlierReleases('sqlite', tmp.file('sqlite')).releases)) {
        console.error(`sqlite: from ${release.name}, ${rows} rows…`);
        reports.push(await measureSqlite(tmp.file(`${release.name.replace(/\W+/g, '_')}.db`), release, rows));
      }
    }
    if (backend !== 'sqlite') {
      if (!PG_URL) throw new Error('PostgreSQL: set AIMEMO_TEST_PG_URL (each run creates and drops a database there), or pass --backend sqlite');
      for (const release of starting(earlierReleases('postgres', tmp.file('pg')).releases)) {
        for (const mode of modes) {
          console.error(`postgres: from ${release.name}, ${rows} rows, ${mode}…`);
          const db = await createTestDatabase('stalls');
          try {
            reports.push(await measurePostgres(db.url, release, rows, mode));
          } finally {
            await db.drop();
          }
        }
      }
    }
  } finally {
    tmp.cleanup();
  }
  console.log(markdown(reports));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
