/**
 * A counted connection pool over postgres.js.
 *
 * postgres.js pools internally but reports no statistics and has no wait
 * timeout: when every connection is busy a query is pipelined behind a busy
 * one, with no timer (porsager/postgres #443, #908, #824). So the store owns
 * its connections: each slot is a postgres.js client limited to one socket
 * (`max: 1`) with its own Drizzle instance, and this pool hands slots out one
 * caller at a time. `status()` is then a count, not a guess.
 *
 * - Up to `poolSize` connections stay open when idle; up to `maxOverflow` more
 *   are opened under load and closed as soon as they are returned.
 * - A caller that finds every connection busy waits in line (first come, first
 *   served) for at most `poolTimeout` seconds, then gets a PoolTimeoutError.
 * - A connection older than `poolRecycle` seconds is closed when returned and
 *   replaced on demand; so is one that failed with a connection error.
 * - A connection the server or the network closes (a restart, an idle-session
 *   timeout) leaves the pool at once if idle, or when returned, so the counts
 *   never include a socket that is gone.
 */
import type postgresType from 'postgres';
import { PoolTimeoutError, StoreClosedError } from '../../errors';
import type { AnyPgDatabase } from '../../migrate/postgres';
import { isConnectionError } from './errors';

/** Counted connections, as {@link PostgresStore.getPoolStatus} returns them. */
export interface PoolStatus {
  /** Connections open up to `poolSize`. */
  size: number;
  /** Connections open beyond `poolSize` (at most `maxOverflow`). */
  overflow: number;
  /** Open and idle. */
  checkedIn: number;
  /** Open and in use. */
  checkedOut: number;
}

export interface PoolSettings {
  poolSize: number;
  maxOverflow: number;
  /** Seconds. */
  poolTimeout: number;
  /** Seconds. */
  poolRecycle: number;
}

/**
 * One open connection, as `connect` makes it.
 * @internal
 */
export interface Connection {
  client: postgresType.Sql;
  db: AnyPgDatabase;
  /** When the server last sent anything (ms since the epoch). */
  lastData(): number;
  /** Destroys the socket now. */
  abort(): void;
  /** Whether a call on it has opened a transaction of its own (`pooler: 'transaction'`). */
  session: { inTransaction: boolean };
}

/**
 * A connection in the pool.
 * @internal
 */
export interface Slot extends Connection {
  openedAt: number;
  /** Its socket closed (server restart, network): never reuse it. */
  lost: boolean;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

/** @internal */
export class PostgresPool {
  #idle: Slot[] = [];
  #busy = 0;
  #opening = 0;
  #waiters: Waiter[] = [];
  #closing = new Set<Promise<void>>();
  #closed = false;

  constructor(
    private readonly settings: PoolSettings,
    /** Opens one connection, calling `onLost` whenever its socket closes; rejects when it cannot. */
    private readonly connect: (onLost: () => void) => Promise<Connection>,
  ) {}

  status(): PoolStatus {
    const open = this.#idle.length + this.#busy;
    return {
      size: Math.min(open, this.settings.poolSize),
      overflow: Math.max(0, open - this.settings.poolSize),
      checkedIn: this.#idle.length,
      checkedOut: this.#busy,
    };
  }

  /** Runs `fn` on a connection of its own, returning it to the pool afterwards. */
  async use<T>(fn: (slot: Slot) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    let broken = false;
    try {
      return await fn(slot);
    } catch (error) {
      broken = isConnectionError(error);
      throw error;
    } finally {
      this.release(slot, broken);
    }
  }

  private hasRoom(): boolean {
    return this.#idle.length + this.#busy + this.#opening < this.settings.poolSize + this.settings.maxOverflow;
  }

  private acquire(): Promise<Slot> {
    if (this.#closed) return Promise.reject(new StoreClosedError('PostgresStore'));
    const idle = this.#idle.pop(); // most recently used first: its socket is warm
    if (idle) {
      this.#busy++;
      return Promise.resolve(idle);
    }
    if (this.hasRoom()) return this.open();
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new PoolTimeoutError(this.settings.poolTimeout, this.status()));
        }, this.settings.poolTimeout * 1000),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Opens a connection for a caller; it counts as checked out once open. */
  private async open(): Promise<Slot> {
    this.#opening++; // counted before the await, or concurrent callers overshoot the limit
    const slot = { lost: false } as Slot;
    try {
      const connection = await this.connect(() => this.lose(slot));
      this.#opening--;
      this.#busy++;
      return Object.assign(slot, connection, { openedAt: Date.now(), lost: false });
    } catch (error) {
      this.#opening--;
      this.serveWaiters(); // the room this attempt held is free again
      throw error;
    }
  }

  private release(slot: Slot, broken: boolean): void {
    this.#busy--;
    const expired = broken || slot.lost || this.#closed || Date.now() - slot.openedAt >= this.settings.poolRecycle * 1000;
    if (!expired && this.#waiters.length > 0) {
      const waiter = this.#waiters.shift()!;
      clearTimeout(waiter.timer);
      this.#busy++;
      waiter.resolve(slot);
      return;
    }
    const overflowing = this.#idle.length + this.#busy + 1 > this.settings.poolSize;
    if (expired || overflowing) {
      this.end(slot);
      this.serveWaiters();
      return;
    }
    this.#idle.push(slot);
  }

  /** A connection's socket closed: drop it now if idle (a busy one is dropped when returned). */
  private lose(slot: Slot): void {
    slot.lost = true;
    const i = this.#idle.indexOf(slot);
    if (i < 0) return;
    this.#idle.splice(i, 1);
    this.end(slot);
  }

  /** Opens connections for waiting callers while there is room (after one was closed). */
  private serveWaiters(): void {
    while (this.#waiters.length > 0 && this.hasRoom() && !this.#closed) {
      const waiter = this.#waiters.shift()!;
      clearTimeout(waiter.timer);
      this.open().then(waiter.resolve, waiter.reject);
    }
  }

  private end(slot: Slot): void {
    const closing = slot.client.end({ timeout: 5 }).catch(() => undefined);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /** Rejects waiting callers, closes idle connections now and busy ones when returned. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new StoreClosedError('PostgresStore'));
    }
    for (const slot of this.#idle.splice(0)) this.end(slot);
    await Promise.all([...this.#closing]);
  }
}
