/**
 * `npm run bench:upgrade [-- --rows 100k|1m] [--backend sqlite|postgres|both]`
 *
 * How long upgrading a database written by v0.1.0 to the current schema
 * takes at a given size, and what it blocks meanwhile. A database is built
 * with v0.1.0's migrations (read from git, as the upgrade test does) and
 * filled; then, while the current migrator upgrades it, a second connection
 * (SQLite: a worker thread; PostgreSQL: its own session) keeps reading one
 * memory by key and writing one memory, and the longest wait of each is
 * reported, with (PostgreSQL) the locks the migration held on
 * `aimemo.memories`, sampled from `pg_locks` every 20 ms.
 *
 * Prints one JSON line per backend. Never fails on timing.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqliteWithDrizzle } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresWithDrizzle } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { MIGRATIONS_TABLE } from '../src/migrate/locate';
import { migratePostgres } from '../src/migrate/postgres';
import { migrateSqlite } from '../src/migrate/sqlite';
import { earlierReleases } from '../tests/helpers/releases';

const SIZES: Record<string, number> = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };
const PG_URL = process.env.AIMEMO_BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

function args(): { rows: number; backends: string[] } {
  const argv = process.argv.slice(2);
  const value = (flag: string) => argv[argv.indexOf(flag) + 1];
  const rows = argv.includes('--rows') ? SIZES[value('--rows')] : SIZES['100k'];
  if (!rows) throw new Error('--rows must be 10k, 100k or 1m');
  const backend = argv.includes('--backend') ? value('--backend') : 'both';
  return { rows, backends: backend === 'both' ? ['sqlite', 'postgres'] : [backend] };
}

function release(dialect: 'sqlite' | 'postgres', dir: string): string {
  const found = earlierReleases(dialect, dir).releases.find((r) => r.name === 'v0.1.0');
  if (!found) throw new Error('v0.1.0 not found (releases.json)');
  return found.folder;
}

const content = (i: number) => `memory ${i} of the upgrade measurement with a few words`;

/** The worker: one SQLite connection reading and writing in a loop; posts its longest waits when told to stop. */
const SQLITE_PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.file, { timeout: 60000 });
const read = db.prepare('SELECT content FROM memories WHERE namespace = ? AND id = ?');
const write = db.prepare("INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES ('probe', ?, 'probe write', '{}', '[]', ?)");
let stop = false, maxRead = 0, maxWrite = 0, n = 0;
parentPort.on('message', () => { stop = true; });
(function loop() {
  if (stop) { db.close(); parentPort.postMessage({ maxRead, maxWrite, n }); return; }
  let t = performance.now(); read.get('bench', 'm' + (n % workerData.rows)); maxRead = Math.max(maxRead, performance.now() - t);
  t = performance.now(); write.run('p' + n, Date.now()); maxWrite = Math.max(maxWrite, performance.now() - t);
  n++;
  setTimeout(loop, 5);
})();
`;

async function sqlite(rows: number, dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, 'upgrade.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrateSqliteWithDrizzle(drizzleSqlite({ client: db }), { migrationsFolder: release('sqlite', dir), migrationsTable: MIGRATIONS_TABLE });
  const insert = db.prepare(`INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES ('bench', ?, ?, ?, '["old"]', ?)`);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`m${i}`, content(i), JSON.stringify({ i }), Date.UTC(2024, 0, 1) + i);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const worker = new Worker(SQLITE_PROBE, { eval: true, workerData: { file, rows } });
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  migrateSqlite(db, true);
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 300));
  const probe = await new Promise<{ maxRead: number; maxWrite: number; n: number }>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage('stop');
  });
  await worker.terminate();
  const applied = (db.prepare(`SELECT count(*) AS n FROM "${MIGRATIONS_TABLE}"`).get() as { n: number }).n;
  const column = db.prepare(`SELECT count(*) AS n FROM pragma_table_info('memories') WHERE name = 'expires_at'`).get() as { n: number };
  db.close();
  if (column.n !== 1) throw new Error('the upgrade did not add expires_at');
  return { backend: 'sqlite', rows, migrationsApplied: applied, migrateMs: Math.round(ms), lock: 'write lock (BEGIN IMMEDIATE) for the whole batch; readers go on (WAL)', maxReadMs: +probe.maxRead.toFixed(1), maxWriteMs: +probe.maxWrite.toFixed(1), probes: probe.n };
}

async function postgresUpgrade(rows: number, dir: string): Promise<Record<string, unknown>> {
  const name = `aimemo_bench_upgrade_${process.pid}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const main = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  const probe = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  const watch = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  try {
    await migratePostgresWithDrizzle(drizzlePostgres({ client: main }), { migrationsFolder: release('postgres', dir), migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' });
    await main.unsafe(`INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, timestamp)
      SELECT 'bench', 'm' || i, 'memory ' || i || ' of the upgrade measurement with a few words', jsonb_build_object('i', i), ARRAY['old'], timestamptz '2024-01-01' + i * interval '1 ms'
      FROM generate_series(0, ${rows - 1}) AS i`);
    await main.unsafe('VACUUM ANALYZE aimemo.memories');
    let stop = false;
    const waits = { read: 0, write: 0, n: 0 };
    const locks = new Set<string>();
    const probing = (async () => {
      while (!stop) {
        let t = performance.now();
        await probe`SELECT content FROM aimemo.memories WHERE namespace = 'bench' AND id = ${`m${waits.n % rows}`}`;
        waits.read = Math.max(waits.read, performance.now() - t);
        t = performance.now();
        await probe`INSERT INTO aimemo.memories (namespace, id, content, "timestamp") VALUES ('probe', ${`p${waits.n}`}, 'probe write', now())`;
        waits.write = Math.max(waits.write, performance.now() - t);
        waits.n++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const sampling = (async () => {
      while (!stop) {
        const held = await watch`SELECT l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'memories' AND l.pid = (SELECT pid FROM pg_stat_activity WHERE datname = ${name} AND application_name = 'upgrade' LIMIT 1)`;
        for (const l of held) if (l.granted) locks.add(l.mode as string);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await main`SET application_name = 'upgrade'`;
    const started = performance.now();
    await migratePostgres(drizzlePostgres({ client: main }) as never, true);
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all([probing, sampling]);
    const [{ n }] = await main`SELECT count(*)::int AS n FROM aimemo.${main(MIGRATIONS_TABLE)}`;
    const [{ c }] = await main`SELECT count(*)::int AS c FROM information_schema.columns WHERE table_schema = 'aimemo' AND table_name = 'memories' AND column_name = 'expires_at'`;
    if (c !== 1) throw new Error('the upgrade did not add expires_at');
    return {
      backend: 'postgres',
      rows,
      migrationsApplied: n,
      migrateMs: Math.round(ms),
      locksHeldOnMemories: [...locks].sort(),
      maxReadMs: +waits.read.toFixed(1),
      maxWriteMs: +waits.write.toFixed(1),
      probes: waits.n,
    };
  } finally {
    await Promise.all([main.end(), probe.end(), watch.end()]);
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

async function run(): Promise<void> {
  const { rows, backends } = args();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-upgrade-'));
  try {
    for (const backend of backends) {
      const result = backend === 'sqlite' ? await sqlite(rows, dir) : await postgresUpgrade(rows, dir);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

run().catch((error) => {
  console.error(error);
  process.exit(1);
});
