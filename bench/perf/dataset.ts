/**
 * The benchmark's data, loaded once through the library and kept between runs:
 * SQLite in `bench/.data/perf-<size>.db`, PostgreSQL in the database
 * `aimemo_bench_perf_<size>` on the server. A small side table
 * (`aimemo_bench_marker`) records the generator version, the row count and how
 * the load went; data is reused when the marker and the row count match.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore } from '../../src';
import { batches, datasetEnd, generateMemories, GENERATOR_VERSION, SIZES, type SizeName } from './generate';

export const DATA_DIR = path.join(__dirname, '..', '.data');
const BATCH = 1000;

/** How the data was loaded (now, or by an earlier run when reused). */
export interface LoadInfo {
  generator: string;
  rows: number;
  /** Wall time of the load, generation included. */
  seconds: number;
  /** Memories per second inside `saveMany`. */
  rate: number;
  /** Peak RSS of the process that loaded, MiB. */
  peakRssMiB: number;
  loadedAt: string;
}

export interface Prepared<S> {
  store: S;
  /** Whether this run loaded the data or found it. */
  reused: boolean;
  load: LoadInfo;
}

export const peakRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

type Log = (line: string) => void;

/** Saves the whole data set through `store.saveMany`, 1,000 at a time. */
async function load(store: SQLiteStore | PostgresStore, size: SizeName, log: Log): Promise<LoadInfo> {
  const total = SIZES[size];
  const started = performance.now();
  let inSaveMany = 0;
  let done = 0;
  let nextReport = total / 10;
  for (const batch of batches(generateMemories(total), BATCH)) {
    const t = performance.now();
    await store.saveMany(batch);
    inSaveMany += performance.now() - t;
    done += batch.length;
    if (done >= nextReport && done < total) {
      log(`  loaded ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.round(done / (inSaveMany / 1000)).toLocaleString('en-US')} memories/s)`);
      nextReport += total / 10;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { generator: GENERATOR_VERSION, rows: done, seconds: Math.round(seconds * 100) / 100, rate: Math.round(done / (inSaveMany / 1000)), peakRssMiB: peakRssMiB(), loadedAt: new Date().toISOString() };
}

// ---------------------------------------------------------------- SQLite

export const sqliteFileFor = (size: SizeName): string => path.join(DATA_DIR, `perf-${size}.db`);

const leftovers = (n: number) => `removed ${n.toLocaleString('en-US')} memories an interrupted run had written`;

/**
 * The marker of a complete load, when the file holds one and the expected
 * rows (after removing what an interrupted run's writes left behind).
 */
function sqliteMarker(file: string, rows: number, log: Log): LoadInfo | undefined {
  if (!fs.existsSync(file)) return undefined;
  const db = new Database(file, { timeout: 5000 });
  try {
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'aimemo_bench_marker'`).get();
    if (!table) return undefined;
    const marker = db.prepare('SELECT generator, row_count, load FROM aimemo_bench_marker').get() as { generator: string; row_count: number; load: string } | undefined;
    if (!marker || marker.generator !== GENERATOR_VERSION || marker.row_count !== rows) return undefined;
    const count = () => (db.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n;
    let n = count();
    if (n > rows) {
      const removed = db.prepare('DELETE FROM memories WHERE "timestamp" > ?').run(datasetEnd(rows).getTime()).changes;
      if (removed) log(`SQLite: ${leftovers(removed)}`);
      n = count();
    }
    return n === rows ? (JSON.parse(marker.load) as LoadInfo) : undefined;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

export async function prepareSqlite(size: SizeName, fresh: boolean, log: Log): Promise<Prepared<SQLiteStore> & { file: string }> {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const file = sqliteFileFor(size);
  const known = fresh ? undefined : sqliteMarker(file, SIZES[size], log);
  if (known) {
    log(`SQLite: reusing ${path.relative(process.cwd(), file)} (${known.rows.toLocaleString('en-US')} memories, ${known.generator}); opening it runs the library's migrations`);
    const store = new SQLiteStore(file);
    await store.ready();
    return { store, reused: true, load: known, file };
  }
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  log(`SQLite: loading ${SIZES[size].toLocaleString('en-US')} memories into ${path.relative(process.cwd(), file)} (saveMany, batches of ${BATCH})`);
  const store = new SQLiteStore(file);
  const info = await load(store, size, log);
  const client = store.client!;
  client.exec('CREATE TABLE aimemo_bench_marker (generator TEXT NOT NULL, row_count INTEGER NOT NULL, load TEXT NOT NULL)');
  client.prepare('INSERT INTO aimemo_bench_marker VALUES (?, ?, ?)').run(info.generator, info.rows, JSON.stringify(info));
  return { store, reused: false, load: info, file };
}

// ---------------------------------------------------------------- PostgreSQL

export const postgresDatabaseFor = (size: SizeName): string => `aimemo_bench_perf_${size}`;

export function databaseUrl(server: string, database: string): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The server's version, or why it cannot be reached. */
export async function probePostgres(server: string): Promise<{ version: string } | { error: string }> {
  const admin = postgres(server, { max: 1, connect_timeout: 5, onnotice: () => undefined });
  try {
    const [row] = await admin`SHOW server_version`;
    return { version: String(row.server_version) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await admin.end({ timeout: 1 }).catch(() => undefined);
  }
}

async function postgresMarker(url: string, rows: number, log: Log): Promise<LoadInfo | undefined> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const [table] = await sql`SELECT to_regclass('public.aimemo_bench_marker')::text AS t`;
    if (!table?.t) return undefined;
    const [marker] = await sql`SELECT generator, row_count::int AS row_count, load FROM public.aimemo_bench_marker`;
    if (!marker || marker.generator !== GENERATOR_VERSION || marker.row_count !== rows) return undefined;
    const count = async () => (await sql`SELECT count(*)::int AS n FROM aimemo.memories`)[0].n as number;
    let n = await count();
    if (n > rows) {
      const removed = (await sql`DELETE FROM aimemo.memories WHERE "timestamp" > ${datasetEnd(rows)}`).count;
      if (removed) log(`PostgreSQL: ${leftovers(removed)}`);
      n = await count();
    }
    return n === rows ? (marker.load as LoadInfo) : undefined;
  } catch {
    return undefined;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function preparePostgres(server: string, size: SizeName, fresh: boolean, log: Log): Promise<Prepared<PostgresStore> & { url: string }> {
  const database = postgresDatabaseFor(size);
  const url = databaseUrl(server, database);
  const admin = postgres(server, { max: 1, onnotice: () => undefined });
  try {
    const exists = (await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`).length > 0;
    const known = exists && !fresh ? await postgresMarker(url, SIZES[size], log) : undefined;
    if (known) {
      log(`PostgreSQL: reusing database ${database} (${known.rows.toLocaleString('en-US')} memories, ${known.generator}); opening it runs the library's migrations`);
      const store = new PostgresStore(url);
      await store.ready();
      return { store, reused: true, load: known, url };
    }
    await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  log(`PostgreSQL: loading ${SIZES[size].toLocaleString('en-US')} memories into database ${database} (saveMany, batches of ${BATCH})`);
  const store = new PostgresStore(url);
  const info = await load(store, size, log);
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await sql`CREATE TABLE public.aimemo_bench_marker (generator text NOT NULL, row_count bigint NOT NULL, load jsonb NOT NULL)`;
    await sql`INSERT INTO public.aimemo_bench_marker VALUES (${info.generator}, ${info.rows}, ${sql.json(info as never)})`;
  } finally {
    await sql.end({ timeout: 1 });
  }
  return { store, reused: false, load: info, url };
}
