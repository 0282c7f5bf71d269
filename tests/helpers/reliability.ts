/**
 * Helpers for the reliability tests (tests/reliability): the short/long switch,
 * integrity checks, a figures line per test, child processes on the build in
 * dist/, and a TCP proxy that can cut and restore the way to PostgreSQL.
 *
 * Every reliability test runs a short version in `npm test` (CI) and a long
 * one with AIMEMO_STRESS=1 (`npm run test:stress`).
 */
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** True for the long versions (`npm run test:stress`). */
export const STRESS = process.env.AIMEMO_STRESS === '1';

/** `short` in CI, `long` under AIMEMO_STRESS=1. */
export function scale<T>(short: T, long: T): T {
  return STRESS ? long : short;
}

/**
 * Prints one line of figures for the closing note, e.g.
 * `[reliability] sqlite processes: processes=4 rows=10000 errors=0`.
 * With AIMEMO_RELIABILITY_REPORT=<file> the line is also appended there as JSON.
 */
export function report(test: string, figures: Record<string, unknown>): void {
  const line = `[reliability${STRESS ? ' stress' : ''}] ${test}: ${Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ')}`;
  process.stdout.write(`${line}\n`);
  const file = process.env.AIMEMO_RELIABILITY_REPORT;
  if (file) fs.appendFileSync(file, `${JSON.stringify({ test, stress: STRESS, ...figures })}\n`);
}

/** SQLite's own check of the whole file, then FTS5's check of the index against `memories`. Throws on any finding. */
export function sqliteIntegrity(file: string): void {
  const db = new Database(file, { readonly: false });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const findings = rows.map((r) => r.integrity_check);
    if (findings.length !== 1 || findings[0] !== 'ok') throw new Error(`PRAGMA integrity_check: ${findings.slice(0, 10).join('; ')}`);
    db.exec(`INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)`); // SQLITE_CORRUPT_VTAB when stale
  } finally {
    db.close();
  }
}

/**
 * PostgreSQL's counterpart of an integrity check: amcheck's `bt_index_check`
 * with `heapallindexed` on every B-tree index of the schema `aimemo` (each
 * index agrees with the table). Needs `CREATE EXTENSION amcheck`.
 */
export const BTREE_CHECK = `SELECT bt_index_check(i.indexrelid, true) FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
  WHERE n.nspname = 'aimemo' AND a.amname = 'btree'`;

/** Runs `fn` on a connection of the test's own to a SQLite file. */
export function withSqlite<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Polls `check` until it holds, or fails after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed for this run: AIMEMO_SEED, or a random one (printed in the figures so a failure can be replayed). */
export function seed(): number {
  return process.env.AIMEMO_SEED ? Number(process.env.AIMEMO_SEED) : Math.floor(Math.random() * 2 ** 31);
}

const CHILDREN = path.join(__dirname, '..', 'reliability', 'child');

/** Starts `tests/reliability/child/<name>.js` on the build in dist/, as an app would run it. */
export function startChild(name: string, args: string[]): ChildProcess & { output: Promise<ChildOutput> } {
  const child = fork(path.join(CHILDREN, `${name}.js`), args, {
    silent: true,
    execArgv: [],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output = new Promise<ChildOutput>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(child, { output });
}

export interface ChildOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Resolves when the child says 'ready' (it has loaded everything), or exits. */
export function whenReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('message', () => resolve());
    child.once('exit', () => resolve());
  });
}

/**
 * A TCP proxy on 127.0.0.1 in front of a PostgreSQL server, to simulate the
 * server going away and coming back without touching the server itself.
 *
 * - `cut()`: stop listening (new connections are refused) and reset every open
 *   connection, as a server that stopped or a dropped network does.
 * - `restore()`: listen again on the same port.
 * - `silence()`: accept connections but never answer (a hung server).
 */
export class TcpProxy {
  #server: net.Server | undefined;
  #sockets = new Set<net.Socket>();
  #silent = false;
  #frozen = false;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to `url`'s host and port; listening unless `listening: false` (a closed port that can open later). */
  static async start(url: string, options: { listening?: boolean } = {}): Promise<TcpProxy> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname || '127.0.0.1', Number(u.port || 5432));
    // Find a free port, then keep it (closed) until restore() when asked not to listen.
    await proxy.listen(0);
    if (options.listening === false) await proxy.cut();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get connections(): number {
    return this.#sockets.size;
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    this.track(client);
    if (this.#silent) {
      client.on('data', () => undefined);
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.track(upstream);
    client.on('close', () => upstream.destroy()); // either side gone: close the other
    upstream.on('close', () => client.destroy());
    // Forwarded by hand so freeze() can drop bytes without closing anything (a server or network that went silent).
    client.on('data', (chunk: Buffer) => this.#frozen || upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => this.#frozen || client.write(chunk));
  }

  /** From now on, connections stay open but nothing is forwarded either way (a hung server, a black-holed network). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Forward again after `freeze()`. */
  thaw(): void {
    this.#frozen = false;
  }

  private track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Refuses new connections and resets every open one. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port, forwarding (or silent, after `silence()`). */
  async restore(): Promise<void> {
    if (!this.#server) await this.listen(this.port);
  }

  /** From now on, accepted connections get no answer (existing ones are reset). */
  async silence(): Promise<void> {
    await this.cut();
    this.#silent = true;
    await this.listen(this.port);
  }

  /** Forward again after `silence()`. */
  async speak(): Promise<void> {
    await this.cut();
    this.#silent = false;
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
