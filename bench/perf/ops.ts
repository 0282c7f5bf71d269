/**
 * The operations `npm run bench` times, each twice per sample: through the
 * public API ("library") and as the same SQL on the bare driver ("raw").
 *
 * The SQL comes from the repository's internal tracer: a traced library call
 * records every statement it sends (text and driver-level parameters), and
 * the raw side replays exactly those statements, in order, on its own
 * connection (better-sqlite3 statements prepared once per text; postgres.js
 * `sql.unsafe(text, params, { prepare: true })`). The difference is what the
 * library adds: validation, query parsing, building the SQL, mapping rows,
 * promises, the pool, re-ranking.
 *
 * Reads go in rounds of {@link ROUND} queries. First, per query and not
 * timed, a traced library call (it records the statements) and, on SQLite,
 * a raw replay of them, so both connections have run every query of the
 * round once, at the same distance: each SQLite connection has a page cache
 * of its own, and capturing right before timing (without the replay) made
 * the raw side of a large search read cold pages and look 40 % slower than
 * the library at 100k (PostgreSQL's buffer cache is shared). Then, per
 * query, the library call (tracer off: tracing renders the SQL a second time
 * on PostgreSQL, the benchmark's cost, not the library's) and the raw replay,
 * both timed, alternating which goes first. Both sides must
 * return the same number of rows (a mismatch is an error, reported and
 * counted).
 *
 * Writes: see {@link measureWrite}. The replay swaps the ids the library
 * generated for fresh ones (inserts stay inserts); everything written is
 * deleted at the end.
 */
import Database, { type Statement as SqliteStatement } from 'better-sqlite3';
import postgres from 'postgres';
import { AIMemo, type NewMemory, type PostgresStore, type SQLiteStore } from '../../src';
import { uuidv7 } from '../../src/uuid';
import type { ReadClass, ReadQuery } from './generate';

export type Store = SQLiteStore | PostgresStore;

/** One statement as the library sent it to the driver. */
export interface Traced {
  sql: string;
  params: unknown[];
}

type Tracer = (statement: Traced) => void;

/** Runs `fn` with the repository's internal tracer recording every statement sent. */
export async function traced<T>(store: Store, fn: () => Promise<T>): Promise<{ result: T; statements: Traced[] }> {
  const repository = (store as unknown as { repository: { tracer?: Tracer } }).repository;
  const statements: Traced[] = [];
  repository.tracer = (s) => statements.push({ sql: s.sql, params: [...s.params] });
  try {
    return { result: await fn(), statements };
  } finally {
    repository.tracer = undefined;
  }
}

// ---------------------------------------------------------------- raw drivers

export interface RawDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs the statements in order and returns how many rows each returned.
   * `transaction`: in one transaction (as the library's multi-statement
   * writes). SQLite answers synchronously, so no promise is timed there.
   */
  replay(statements: Traced[], transaction: boolean): number[] | Promise<number[]>;
  /** Deletes memories by id (the ones the benchmark wrote). */
  remove(namespace: string, ids: string[]): Promise<void>;
  close(): Promise<void>;
}

export class RawSqlite implements RawDriver {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #prepared = new Map<string, SqliteStatement>();

  constructor(file: string) {
    this.#db = new Database(file, { timeout: 5000 });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
  }

  #one(statement: Traced): number {
    let prepared = this.#prepared.get(statement.sql);
    if (!prepared) this.#prepared.set(statement.sql, (prepared = this.#db.prepare(statement.sql)));
    if (prepared.reader) return prepared.all(...statement.params).length;
    prepared.run(...statement.params);
    return 0;
  }

  /**
   * A write replays in one transaction, its rids translated: the library's
   * search index statements (src/store/sqlite/search-index.ts) name the rids
   * its inserts got, and the replay's inserts get others. The k-th rid the
   * library's first "rid IN (json)" lists (its queue, in rid order) is the
   * k-th rid the replay's inserts got; later parameters equal to a library
   * rid (plain, or inside a JSON array) are swapped.
   */
  replay(statements: Traced[], transaction: boolean): number[] {
    if (!transaction) return statements.map((s) => this.#one(s));
    return this.#db
      .transaction(() => {
        const rids = new Map<number, number>();
        const inserted: number[] = [];
        const swap = (p: unknown): unknown => {
          if (typeof p === 'number') return rids.get(p) ?? p;
          if (typeof p === 'string' && p.startsWith('[') && rids.size) {
            try {
              const list = JSON.parse(p) as unknown[];
              if (list.every((x) => typeof x === 'number')) return JSON.stringify((list as number[]).map((x) => rids.get(x) ?? x));
            } catch {
              return p;
            }
          }
          return p;
        };
        return statements.map((s) => {
          if (rids.size === 0 && inserted.length && /\brid IN \(SELECT value FROM json_each\(\?\)\)/.test(s.sql)) {
            // The queue lists old rids of replaced rows first (smaller), then the new ones: the last ones are the inserts'.
            const listed = JSON.parse(s.params[s.params.length - 1] as string) as number[];
            listed.slice(-inserted.length).forEach((r, i) => rids.set(r, inserted[i]));
          }
          const statement = { sql: s.sql, params: s.params.map(swap) };
          if (/^INSERT INTO memories \(/.test(s.sql)) {
            let prepared = this.#prepared.get(s.sql);
            if (!prepared) this.#prepared.set(s.sql, (prepared = this.#db.prepare(s.sql)));
            inserted.push(Number(prepared.run(...statement.params).lastInsertRowid));
            return 0;
          }
          return this.#one(statement);
        });
      })
      .immediate();
  }

  async remove(namespace: string, ids: string[]): Promise<void> {
    const del = this.#db.prepare('DELETE FROM memories WHERE namespace = ? AND id IN (SELECT value FROM json_each(?))');
    this.#db.transaction(() => {
      for (let i = 0; i < ids.length; i += 5000) del.run(namespace, JSON.stringify(ids.slice(i, i + 5000)));
    }).immediate();
  }

  async close(): Promise<void> {
    this.#prepared.clear();
    this.#db.close();
  }
}

export class RawPostgres implements RawDriver {
  readonly dialect = 'postgres' as const;
  readonly #sql: postgres.Sql;

  constructor(url: string) {
    // The session settings the library's own pool uses (src/store/postgres/connect.ts): same SQL, same planner.
    this.#sql = postgres(url, { max: 1, onnotice: () => undefined, connection: { jit: 'off', plan_cache_mode: 'force_custom_plan' } });
  }

  async replay(statements: Traced[], transaction: boolean): Promise<number[]> {
    const run = async (sql: postgres.Sql | postgres.TransactionSql) => {
      const rows: number[] = [];
      for (const s of statements) rows.push((await sql.unsafe(s.sql, s.params as never[], { prepare: true })).length);
      return rows;
    };
    if (!transaction) return run(this.#sql);
    return (await this.#sql.begin((tx) => run(tx))) as number[];
  }

  async remove(namespace: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 5000) {
      await this.#sql`DELETE FROM aimemo.memories WHERE namespace = ${namespace} AND id = ANY(${ids.slice(i, i + 5000)}::text[])`;
    }
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------- backends

export interface Backend {
  name: 'sqlite' | 'postgres';
  label: string;
  store: Store;
  raw: RawDriver;
  /** Every id the write operations saved, by namespace, to delete afterwards. */
  written: Map<string, string[]>;
}

/**
 * Whether the statement reads memories' columns (content, metadata, tags): the
 * only rows a search can return. The search engine sends several statements
 * (statistics, postings, facts, neighbours); the memories it returns come
 * from the ones that read these columns, in whichever round they ran.
 */
function readsMemories(text: string): boolean {
  return /m\.content, m\.metadata, m\.tags/.test(text);
}

// ---------------------------------------------------------------- operations

const SEARCH_LIMIT = 5;
const ANY_LIMIT = 10;
const CONTEXT_LIMIT = 5;
/** Memories per list, listPage and filtered list read. */
const LIST_LIMIT = 10;

/** One library read; returns how many memories it returned (getContext: lines). */
export async function libraryRead(store: Store, q: ReadQuery): Promise<number> {
  switch (q.cls) {
    case 'list tags':
      return (await store.list({ namespace: q.namespace, tags: q.tags, limit: 10 })).length;
    case 'get':
      return (await store.get(q.id!, q.namespace)) ? 1 : 0;
    case 'mode any':
      return (await store.search(q.text!, { namespace: q.namespace, limit: ANY_LIMIT, mode: 'any' })).length;
    case 'getContext': {
      const context = await new AIMemo({ store, namespace: q.namespace }).getContext(q.text!);
      return context ? context.split('\n').length - 1 : 0;
    }
    case 'where eq':
    case 'where range':
    case 'where range (index)':
    case 'since window':
      return (await store.list({ namespace: q.namespace, limit: LIST_LIMIT, ...(q.where ? { where: q.where } : {}), ...(q.since ? { since: q.since, until: q.until } : {}) })).length;
    case 'listPage deep': {
      // the page plus one row: listPage reads limit + 1 to know whether a next page exists
      const page = await store.listPage({ namespace: q.namespace, limit: LIST_LIMIT, cursor: q.cursor });
      return page.memories.length + (page.cursor ? 1 : 0);
    }
    default:
      return (await store.search(q.text!, { namespace: q.namespace, limit: SEARCH_LIMIT, ...(q.tags ? { tags: q.tags } : {}) })).length;
  }
}

/** The searches: their rows come from the statements that read memories (see {@link readsMemories}). */
const SEARCHES: ReadonlySet<ReadClass> = new Set<ReadClass>(['common word', 'two words', 'phrase', 'prefix', 'OR of three', 'tags', 'mode any', 'getContext']);
/** Searches that any of their words satisfies: a memory read for one of its words matches. */
const ANY_WORD: ReadonlySet<ReadClass> = new Set<ReadClass>(['common word', 'prefix', 'OR of three', 'mode any', 'getContext']);

/**
 * Whether the raw rows agree with the library's result; a message when not.
 * A search returns at most its limit of the memories its statements read
 * (candidates of a two-word or phrase search may hold one word only, and
 * tags filter them, so those may return none of them); a search that any
 * word satisfies returns some memory whenever its statements read one
 * (getContext may leave out a memory too long for `maxChars`, never all).
 * Every other read returns its last statement's rows.
 */
function checkRows(cls: ReadClass, library: number, raw: number[], statements: Traced[]): string | undefined {
  if (SEARCHES.has(cls)) {
    const read = statements.reduce((sum, s, i) => sum + (readsMemories(s.sql) ? raw[i] : 0), 0);
    const limit = cls === 'mode any' ? ANY_LIMIT : cls === 'getContext' ? CONTEXT_LIMIT : SEARCH_LIMIT;
    const ok = library <= Math.min(limit, read) && (!ANY_WORD.has(cls) || library > 0 === read > 0);
    return ok ? undefined : `library returned ${library} rows, its statements read ${read} memories (limit ${limit}; rows per statement: ${raw.join(', ')})`;
  }
  const expected = raw.length ? raw[raw.length - 1] : 0;
  return library === expected ? undefined : `library returned ${library} rows, raw ${expected} (statements: ${raw.join(', ')})`;
}

export interface OperationResult {
  name: string;
  kind: 'read' | 'write';
  /** Memories per call (writes). */
  batch: number;
  library: number[];
  raw: number[];
  /** Rows the library returned, per sample (reads). */
  rows: number[];
  /** Statements one call sent, per sample. */
  statements: number[];
  /** One statement text per distinct shape (the first sample's), for the report. */
  sql: string[];
  mismatches: string[];
  errors: string[];
}

function newResult(name: string, kind: 'read' | 'write', batch: number): OperationResult {
  return { name, kind, batch, library: [], raw: [], rows: [], statements: [], sql: [], mismatches: [], errors: [] };
}

const now = (): number => performance.now();

/** Times `fn` (sync or async) in milliseconds. */
async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const started = now();
  const out = fn();
  const value = out instanceof Promise ? await out : out;
  return { ms: now() - started, value };
}

const describeError = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 300);

/** Queries per round of {@link measureRead}. */
export const ROUND = 20;

/** Captures the statements of one read; again when that call counted statistics the next call will find cached. */
async function captureRead(backend: Backend, q: ReadQuery): Promise<Traced[]> {
  return (await traced(backend.store, () => libraryRead(backend.store, q))).statements;
}

/** `warmup` samples first (not counted), then `queries.length - warmup`. */
export async function measureRead(backend: Backend, cls: ReadClass, queries: ReadQuery[], warmup: number): Promise<OperationResult> {
  const result = newResult(cls, 'read', 1);
  const label = (q: ReadQuery) => `${q.namespace} ${JSON.stringify(q.text ?? q.tags ?? q.id ?? q.where ?? q.since ?? q.cursor)}`;
  for (let start = 0; start < queries.length; start += ROUND) {
    const round = queries.slice(start, start + ROUND);
    const captured: (Traced[] | undefined)[] = [];
    for (const q of round) {
      try {
        const statements = await captureRead(backend, q);
        if (backend.name === 'sqlite') backend.raw.replay(statements, false); // PostgreSQL's buffer cache is shared already
        captured.push(statements);
      } catch (error) {
        captured.push(undefined);
        result.errors.push(`${label(q)}: ${describeError(error)}`);
      }
    }
    for (let j = 0; j < round.length; j++) {
      const q = round[j];
      const statements = captured[j];
      if (!statements) continue;
      const i = start + j;
      try {
        const runLibrary = () => timed(() => libraryRead(backend.store, q));
        const runRaw = () => timed(() => backend.raw.replay(statements, false));
        let library: { ms: number; value: number };
        let raw: { ms: number; value: number[] };
        if (i % 2 === 0) {
          library = await runLibrary();
          raw = await runRaw();
        } else {
          raw = await runRaw();
          library = await runLibrary();
        }
        const mismatch = checkRows(cls, library.value, raw.value, statements);
        if (mismatch) result.mismatches.push(`${label(q)}: ${mismatch}`);
        if (i < warmup) continue;
        result.library.push(library.ms);
        result.raw.push(raw.ms);
        result.rows.push(library.value);
        result.statements.push(statements.length);
        if (result.sql.length === 0) result.sql = statements.map((s) => s.sql);
      } catch (error) {
        result.errors.push(`${label(q)}: ${describeError(error)}`);
      }
    }
  }
  return result;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * The statements with every id in `ids` (the ones the library generated for
 * that call) replaced by a fresh time-ordered id, in plain parameters and
 * inside longer strings (PostgreSQL's upsert sends the rows as one JSON text).
 */
export function withFreshIds(statements: Traced[], ids: string[]): { statements: Traced[]; fresh: string[] } {
  const swap = new Map(ids.map((id) => [id, uuidv7()]));
  const param = (p: unknown): unknown => {
    if (typeof p !== 'string') return p;
    const whole = swap.get(p);
    if (whole) return whole;
    return p.length > 36 ? p.replace(UUID, (m) => swap.get(m) ?? m) : p;
  };
  return { statements: statements.map((s) => ({ sql: s.sql, params: s.params.map(param) })), fresh: [...swap.values()] };
}

/**
 * save (batch 1) or saveMany (batch > 1); `next()` gives new memories.
 *
 * save follows the read pattern (an untimed traced call records the
 * statements; the timed library call saves another memory of the same shape).
 * saveMany times the traced call itself, library first, then its replay: a
 * batch writes 1,000 rows and an extra call per sample would write a third
 * more rows into the cached data set, while tracing costs a batch next to
 * nothing (one statement text and its parameters per row, already built).
 */
export async function measureWrite(
  backend: Backend,
  name: string,
  batch: number,
  samples: number,
  warmup: number,
  next: () => NewMemory & { namespace: string },
): Promise<OperationResult> {
  const result = newResult(name, 'write', batch);
  const store = backend.store;
  const write = async (memories: (NewMemory & { namespace: string })[]): Promise<string[]> =>
    batch === 1 ? [(await store.save(memories[0])).id] : (await store.saveMany(memories)).map((m) => m.id);
  const remember = (memories: { namespace: string }[], ids: string[]) => {
    memories.forEach((m, i) => {
      let list = backend.written.get(m.namespace);
      if (!list) backend.written.set(m.namespace, (list = []));
      list.push(ids[i]);
    });
  };
  const fresh = (memories: { namespace: string }[], capture: { result: string[]; statements: Traced[] }): Traced[] => {
    const swapped = withFreshIds(capture.statements, capture.result);
    remember(memories, swapped.fresh);
    return swapped.statements;
  };
  // The library runs a multi-statement write in one transaction (SQLite: IMMEDIATE), so the replay does too.
  const replay = (statements: Traced[]) => timed(() => backend.raw.replay(statements, statements.length > 1));
  for (let i = 0; i < warmup + samples; i++) {
    try {
      let library: { ms: number; value: string[] };
      let raw: { ms: number; value: number[] };
      let statements: Traced[];
      if (batch === 1) {
        const captured = [next()];
        const capture = await traced(store, () => write(captured));
        remember(captured, capture.result);
        statements = fresh(captured, capture);
        const memories = [next()];
        if (i % 2 === 0) {
          library = await timed(() => write(memories));
          raw = await replay(statements);
        } else {
          raw = await replay(statements);
          library = await timed(() => write(memories));
        }
        remember(memories, library.value);
      } else {
        const memories = Array.from({ length: batch }, next);
        const capture = await timed(() => traced(store, () => write(memories)));
        library = { ms: capture.ms, value: capture.value.result };
        remember(memories, library.value);
        statements = fresh(memories, capture.value);
        raw = await replay(statements);
      }
      if (i < warmup) continue;
      result.library.push(library.ms);
      result.raw.push(raw.ms);
      result.statements.push(statements.length);
      if (result.sql.length === 0) result.sql = [...new Set(statements.map((s) => s.sql))];
    } catch (error) {
      result.errors.push(`${name}: ${describeError(error)}`);
    }
  }
  return result;
}

/** Deletes everything the write operations saved; returns how many. */
export async function deleteWritten(backend: Backend): Promise<number> {
  let n = 0;
  for (const [namespace, ids] of backend.written) {
    await backend.raw.remove(namespace, ids);
    n += ids.length;
  }
  backend.written.clear();
  return n;
}
