/**
 * Measures what an upgrade does to the readers and writers of a live
 * database: a database is built as an earlier release left it, filled, and
 * then upgraded by this build's runner while a reader (primary-key SELECTs)
 * and a writer (upserts), each on its own connection, run every 5 ms, as
 * processes of the old version would. For every migration applied, the
 * longest read and write overlapping it, and (PostgreSQL) how often either
 * was seen waiting for a lock (`pg_stat_activity.wait_event_type = 'Lock'`,
 * sampled every 10 ms by a third connection).
 *
 * Used by tests/reliability/upgrade-stalls.test.ts (10,000 rows; 1,000,000
 * in `npm run test:stress`) and by `npm run test:upgrade-stalls -- --rows 1m`
 * (scripts/upgrade-stalls.ts), which prints the figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqliteWithDrizzle } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresWithDrizzle } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { MIGRATIONS_TABLE } from '../../src/migrate/locate';
import { migratePostgres, type AnyPgDatabase, type MigrationEvent } from '../../src/migrate/postgres';
import { migrateSqlite } from '../../src/migrate/sqlite';
import type { Release } from './releases';

/** One read or write: when it started and how long it took (ms), or that it failed. */
export interface Op {
  at: number;
  ms: number;
  error?: string;
}

export interface Figures {
  /** Operations that overlapped the window. */
  ops: number;
  /** The longest of them, ms. */
  maxMs: number;
  /** Failed operations (SQLite: SQLITE_BUSY after the busy timeout). */
  errors: number;
  /** Samples that saw the connection waiting for a lock (PostgreSQL only). */
  lockWaits: number;
}

export interface MigrationStall {
  tag: string;
  online: boolean;
  ms: number;
  reader: Figures;
  writer: Figures;
}

export interface StallReport {
  backend: 'postgres' | 'sqlite';
  from: string;
  rows: number;
  /** How the upgrade ran: this build's runner (online steps), or every migration in one transaction, as drizzle-kit migrate does. */
  mode: 'online' | 'transaction';
  /** Reads and writes in the second before the upgrade, for the noise of the machine. */
  baseline: { reader: Figures; writer: Figures };
  migrations: MigrationStall[];
}

const NS = 'stalls';

/** Old row i, as every release stores it. */
const content = (i: number) => `stall note ${i} about the upgrade of a large table, kept since the old release`;

function figures(ops: Op[], from: number, to: number, lockWaits: number[] = []): Figures {
  const inside = ops.filter((o) => o.at < to && o.at + o.ms > from);
  return {
    ops: inside.length,
    maxMs: Math.round(Math.max(0, ...inside.map((o) => o.ms)) * 10) / 10,
    errors: inside.filter((o) => o.error).length,
    lockWaits: lockWaits.filter((t) => t >= from && t <= to).length,
  };
}

/** Pairs the runner's start/end events into windows. */
function windows(events: MigrationEvent[]): { tag: string; online: boolean; start: number; end: number }[] {
  return events
    .filter((e) => e.phase === 'start')
    .map((start) => ({ tag: start.tag, online: start.online, start: start.at, end: events.find((e) => e.phase === 'end' && e.tag === start.tag)?.at ?? Date.now() }));
}

function summarise(
  backend: StallReport['backend'],
  release: Release,
  rows: number,
  mode: StallReport['mode'],
  events: MigrationEvent[],
  began: number,
  reads: Op[],
  writes: Op[],
  waits: { reader: number[]; writer: number[] } = { reader: [], writer: [] },
): StallReport {
  const first = events[0]?.at ?? began + 1000;
  return {
    backend,
    from: release.name,
    rows,
    mode,
    baseline: { reader: figures(reads, first - 1000, first, waits.reader), writer: figures(writes, first - 1000, first, waits.writer) },
    migrations: windows(events).map((w) => ({
      tag: w.tag,
      online: w.online,
      ms: w.end - w.start,
      reader: figures(reads, w.start, w.end, waits.reader),
      writer: figures(writes, w.start, w.end, waits.writer),
    })),
  };
}

/** Runs `op` every 5 ms (paced: a spinning loop would slow the upgrade on two cores) until `stop()`; records each call. */
function loop(op: () => Promise<unknown>): { ops: Op[]; stop(): Promise<void> } {
  const ops: Op[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const at = Date.now();
      const t = performance.now();
      try {
        await op();
        ops.push({ at, ms: performance.now() - t });
      } catch (error) {
        ops.push({ at, ms: performance.now() - t, error: (error as Error).message });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    ops,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * PostgreSQL: `url` names an empty database. Builds it as `release` left it,
 * fills `rows`, then upgrades it while the reader and writer run.
 * `mode: 'transaction'` runs the upgrade as drizzle-kit migrate (and
 * aimemo 0.1.0) did, every migration in one transaction, for comparison.
 */
export async function measurePostgres(url: string, release: Release, rows: number, mode: StallReport['mode'] = 'online'): Promise<StallReport> {
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  const reader = postgres(url, { max: 1, onnotice: () => undefined });
  const writer = postgres(url, { max: 1, onnotice: () => undefined });
  const migrator = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await migratePostgresWithDrizzle(drizzlePostgres({ client: admin }), { migrationsFolder: release.folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' });
    for (let from = 0; from < rows; from += 100_000) {
      await admin.unsafe(
        `INSERT INTO aimemo.memories (namespace, id, content, tags, timestamp)
         SELECT '${NS}', 'old-' || i, 'stall note ' || i || ' about the upgrade of a large table, kept since the old release', ARRAY['old'], timestamptz '2024-01-01' + i * interval '1 ms'
         FROM generate_series(${from}, ${Math.min(rows, from + 100_000) - 1}) AS i`,
      );
    }
    await admin.unsafe('VACUUM ANALYZE aimemo.memories');
    const [{ pid: readerPid }] = await reader<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const [{ pid: writerPid }] = await writer<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;

    let n = 0;
    const reads = loop(() => reader`SELECT content FROM aimemo.memories WHERE namespace = ${NS} AND id = ${`old-${Math.floor(Math.random() * rows)}`}`);
    const writes = loop(() => {
      const id = `new-${n++}`;
      return writer`INSERT INTO aimemo.memories (namespace, id, content, timestamp) VALUES (${NS}, ${id}, ${content(n)}, now())
        ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content`;
    });
    const waits = { reader: [] as number[], writer: [] as number[] };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const waiting = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE pid IN (${readerPid}, ${writerPid}) AND wait_event_type = 'Lock'`;
        for (const w of waiting) (w.pid === readerPid ? waits.reader : waits.writer).push(Date.now());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const began = Date.now();
    await new Promise((r) => setTimeout(r, 1000)); // baseline
    const events: MigrationEvent[] = [];
    await migratePostgres(drizzlePostgres({ client: migrator }) as unknown as AnyPgDatabase, true, undefined, {
      session: mode === 'online',
      onEvent: (e) => events.push(e),
    });
    await new Promise((r) => setTimeout(r, 200));
    sampling = false;
    await Promise.all([reads.stop(), writes.stop(), sampler]);
    return summarise('postgres', release, rows, mode, events, began, reads.ops, writes.ops, waits);
  } finally {
    await Promise.all([admin, reader, writer, migrator].map((c) => c.end({ timeout: 5 })));
  }
}

const LOAD = path.join(__dirname, '..', 'reliability', 'child', 'stall-load.js');

/** A child process reading or writing the SQLite file back to back until told to stop; resolves with its ops. */
function sqliteLoad(kind: 'reader' | 'writer', file: string, rows: number): { ready: Promise<void>; stop(): Promise<Op[]>; child: ChildProcess } {
  const child = fork(LOAD, [kind, file, String(rows)], { execArgv: [], env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    child,
    ready,
    stop: () =>
      new Promise<Op[]>((resolve, reject) => {
        child.once('message', (ops) => resolve(ops as Op[]));
        child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the ${kind} exited with ${code}`))));
        child.send('stop');
      }),
  };
}

/**
 * SQLite: builds `file` as `release` left it, fills it, then upgrades it
 * while a reader and a writer process (better-sqlite3, busy timeout 5 s, as
 * the store uses) run. SQLite applies a batch in one IMMEDIATE transaction
 * (writers wait; readers, in WAL mode, never do).
 */
export async function measureSqlite(file: string, release: Release, rows: number): Promise<StallReport> {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    migrateSqliteWithDrizzle(drizzleSqlite({ client: db }), { migrationsFolder: release.folder, migrationsTable: MIGRATIONS_TABLE });
    const insert = db.prepare('INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES (?, ?, ?, ?, ?, ?)');
    for (let from = 0; from < rows; from += 100_000) {
      db.transaction(() => {
        for (let i = from; i < Math.min(rows, from + 100_000); i++) insert.run(NS, `old-${i}`, content(i), '{}', '["old"]', Date.UTC(2024, 0, 1) + i);
      })();
    }
  } finally {
    db.close();
  }
  const reader = sqliteLoad('reader', file, rows);
  const writer = sqliteLoad('writer', file, rows);
  await Promise.all([reader.ready, writer.ready]);
  const began = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  const events: MigrationEvent[] = [];
  const conn = new Database(file, { timeout: 5000 });
  try {
    migrateSqlite(conn, true, undefined, { onEvent: (e) => events.push(e) });
  } finally {
    conn.close();
  }
  // One transaction: every migration of the batch holds the write lock until the last commits.
  const end = Date.now();
  for (const e of events) if (e.phase === 'end') e.at = end;
  await new Promise((r) => setTimeout(r, 200));
  const [reads, writes] = await Promise.all([reader.stop(), writer.stop()]);
  return summarise('sqlite', release, rows, 'transaction', events, began, reads, writes);
}

/** The report as markdown table rows: backend, from, migration, its time, reader and writer stalls. */
export function markdown(reports: StallReport[]): string {
  const lines = [
    '| backend | rows | from | mode | migration | took (ms) | reader max (ms) | reader lock waits | writer max (ms) | writer lock waits | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of reports) {
    lines.push(`| ${r.backend} | ${r.rows} | ${r.from} | ${r.mode} | (1 s before) | | ${r.baseline.reader.maxMs} | ${r.baseline.reader.lockWaits} | ${r.baseline.writer.maxMs} | ${r.baseline.writer.lockWaits} | ${r.baseline.reader.errors + r.baseline.writer.errors} |`);
    if (r.migrations.length === 0) lines.push(`| ${r.backend} | ${r.rows} | ${r.from} | ${r.mode} | (none pending) | | | | | | |`);
    for (const m of r.migrations) {
      lines.push(
        `| ${r.backend} | ${r.rows} | ${r.from} | ${r.mode} | ${m.tag}${m.online ? ' (online)' : ''} | ${m.ms} | ${m.reader.maxMs} | ${m.reader.lockWaits} | ${m.writer.maxMs} | ${m.writer.lockWaits} | ${m.reader.errors + m.writer.errors} |`,
      );
    }
  }
  return lines.join('\n');
}
