/**
 * How the store's own connections (a pool opened from a URL) are set up and
 * used: session settings, transactions, `statementTimeout`, and connection
 * poolers in front of the server.
 *
 * - **Settings are statements, never startup parameters.** PgBouncer refuses
 *   a startup parameter it does not know (`08P01: unsupported startup
 *   parameter: jit`) unless listed in `ignore_startup_parameters`, and so do
 *   most managed poolers. Direct (or session-pooled) connections run one
 *   `SET …` when opened. Behind a transaction pooler a session `SET` would
 *   land on whichever server connection the pooler picked and stay there for
 *   its next client, so with `pooler: 'transaction'` each call runs in a
 *   transaction that sets its own values with `set_config(…, true)`
 *   (`SET LOCAL`), which the pooler keeps on one server connection.
 * - **Prepared statements** are off with `pooler: 'transaction'` (PgBouncer
 *   before 1.21 keeps none across transactions; postgres.js then sends
 *   unnamed statements, which live within one message exchange).
 * - **Transactions never use postgres.js's `sql.begin`.** When the server
 *   ends a connection inside `sql.begin` (`pg_terminate_backend`, a
 *   failover, `idle_in_transaction_session_timeout`), postgres.js writes its
 *   ROLLBACK to the closed socket from a `setImmediate` callback and throws
 *   `TypeError: Cannot read properties of null (reading 'write')` where
 *   nothing can catch it: the host process dies (porsager/postgres #1154,
 *   #1208). Here `BEGIN`/`COMMIT` are ordinary statements on the slot's
 *   client. That is safe only because each client has exactly one socket
 *   (`socket.ts` refuses a second): a statement can never be sent, outside
 *   the transaction, on a fresh connection.
 * - **`statementTimeout`** is the server's `statement_timeout` (the server
 *   cancels the statement and answers `57014`, mapped to
 *   `QueryTimeoutError`), plus a check on the client for a server that
 *   stops answering altogether: when nothing arrives for `statementTimeout`
 *   plus {@link STALL_GRACE_MS} while a call waits, the call fails with
 *   `QueryTimeoutError` and its connection is destroyed. Migrations and
 *   `optimize()` run without it (an index build or a VACUUM may take long).
 */
import type postgresType from 'postgres';
import { QueryTimeoutError } from '../../errors';

import type { PoolerMode } from './pooler';

export type { PoolerMode } from './pooler';

/** What a connection needs to know about the store's settings. */
export interface SessionSettings {
  pooler: PoolerMode;
  /** Seconds; 0 is no limit. */
  statementTimeout: number;
}

/** Options of one call on a connection. */
export interface UseOptions {
  /**
   * Apply `statementTimeout` (and the stall check). Off for migrations and
   * maintenance, which may legitimately run long.
   * @defaultValue true
   */
  bounded?: boolean;
}

/** How long past `statementTimeout` the server may stay silent before the store gives up on it. */
export const STALL_GRACE_MS = 2000;

/**
 * The session settings, run once per direct connection. jit off: the search
 * statement's estimated cost (its word-count subqueries) crosses
 * jit_above_cost, and compiling it took 44 ms of a 65 ms query at 1,000,000
 * memories; the query itself needs no JIT. force_custom_plan: statements are
 * prepared, and after five runs PostgreSQL may keep a generic plan, one for
 * every namespace and word; whether to walk the newest rows or the GIN index
 * depends on both (a common word in a large namespace took 146 ms p50 with
 * the generic plan). Planning costs ~2 ms (npm run bench).
 */
export function sessionSetup(settings: SessionSettings): string {
  if (settings.pooler === 'transaction') return 'SELECT 1';
  return ['SET jit = off', 'SET plan_cache_mode = force_custom_plan', `SET statement_timeout = ${timeoutMs(settings.statementTimeout)}`].join('; ');
}

const timeoutMs = (seconds: number): number => Math.round(seconds * 1000);

/** One connection of the pool, as this file needs it. */
export interface SessionSlot {
  client: postgresType.Sql;
  /** When the server last sent anything (ms since the epoch). */
  lastData(): number;
  /** Destroys the socket: every statement waiting on it fails. */
  abort(): void;
  /** Whether the current call has opened a transaction of its own (read by {@link withSafeBegin}). */
  session: { inTransaction: boolean };
}

/** What one call learns: whether the server went silent, and when `fn` has settled. */
export interface CallState {
  stalled: boolean;
  settled?: Promise<unknown>;
}

/**
 * A postgres.js client whose `begin` runs `BEGIN`/`COMMIT` as plain
 * statements (see the module comment), for Drizzle's `db.transaction`.
 * Inside a call that is already a transaction (`pooler: 'transaction'`),
 * `begin` just runs its callback: the call's own COMMIT or ROLLBACK ends it.
 */
export function withSafeBegin(client: postgresType.Sql, inTransaction: () => boolean): postgresType.Sql {
  const begin = async (...args: unknown[]): Promise<unknown> => {
    const fn = args[args.length - 1] as (sql: postgresType.Sql) => Promise<unknown>;
    if (inTransaction()) return fn(proxy);
    const mode = typeof args[0] === 'string' && args.length > 1 ? ` ${args[0].replace(/[^a-z ]/gi, '')}` : '';
    await client.unsafe(`BEGIN${mode}`);
    let result: unknown;
    try {
      result = await fn(proxy);
    } catch (error) {
      await client.unsafe('ROLLBACK').catch(() => undefined); // a lost connection has rolled back already
      throw error;
    }
    await client.unsafe('COMMIT');
    return result;
  };
  const proxy = new Proxy(client, {
    get: (target, key, receiver) => (key === 'begin' ? begin : Reflect.get(target, key, receiver)),
  });
  return proxy;
}

/**
 * Runs `fn` on a slot with the store's settings in force: the transaction
 * wrapper behind a transaction pooler, `statement_timeout` switched off for
 * unbounded calls on a direct connection, and the stall check. Rejects with
 * {@link QueryTimeoutError} (and `stalled()` true) when the server goes
 * silent; `fn` may still be settling then, and `settled` says when it has.
 */
export async function runInSession<T>(
  slot: SessionSlot,
  settings: SessionSettings,
  options: UseOptions,
  state: CallState,
  fn: () => Promise<T>,
): Promise<T> {
  const bounded = options.bounded ?? true;
  const limit = bounded ? settings.statementTimeout : 0;
  const { client } = slot;
  // Only bounded calls: an unbounded one (migrations) may need to run outside any transaction.
  const wrap = settings.pooler === 'transaction' && limit > 0;
  let work: Promise<T>;
  if (wrap) {
    // Sent together, before the call's own statements, on the one connection: the pooler keeps them in one transaction.
    const begin = client.unsafe('BEGIN');
    const local = client.unsafe(`SELECT set_config('statement_timeout', '${timeoutMs(limit)}', true)`);
    begin.catch(() => undefined);
    local.catch(() => undefined);
    slot.session.inTransaction = true;
    work = (async () => {
      try {
        const result = await fn();
        await begin;
        await local;
        await client.unsafe('COMMIT');
        return result;
      } catch (error) {
        await client.unsafe('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        slot.session.inTransaction = false;
      }
    })();
  } else if (!bounded && settings.pooler === 'none' && settings.statementTimeout > 0) {
    work = (async () => {
      await client.unsafe('SET statement_timeout = 0');
      try {
        return await fn();
      } finally {
        // A connection whose limit could not be put back must not serve a bounded call: drop it.
        await client.unsafe(`SET statement_timeout = ${timeoutMs(settings.statementTimeout)}`).catch(() => slot.abort());
      }
    })();
  } else {
    // Awaited once, inside: Drizzle's query builders run again on every `.then`.
    work = (async () => fn())();
  }
  state.settled = work.then(
    () => undefined,
    () => undefined,
  );
  if (limit <= 0) return work;
  return watchForStall(slot, limit, state, work);
}

/** Longest delay a Node timer holds; longer waits are re-armed (check() computes what is left). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Rejects when the server has sent nothing for `limit` seconds plus the grace while `work` runs. */
function watchForStall<T>(slot: SessionSlot, limit: number, state: { stalled: boolean }, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const quiet = limit * 1000 + STALL_GRACE_MS;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const check = () => {
      const silentFor = Date.now() - Math.max(started, slot.lastData());
      if (silentFor < quiet) {
        timer = setTimeout(check, Math.min(quiet - silentFor, MAX_TIMER_MS));
        return;
      }
      state.stalled = true;
      slot.abort();
      reject(new QueryTimeoutError(limit));
    };
    timer = setTimeout(check, Math.min(quiet, MAX_TIMER_MS));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
