/**
 * The socket postgres.js gets for each connection the store opens, through its
 * `socket` option. It exists because of what postgres.js 3.4 does with a peer
 * that is not a sound PostgreSQL server (checked against local fake servers):
 *
 * - **A peer that closes during startup** (an HTTP server answering `400` and
 *   closing, a port that accepts and closes at once): postgres.js reconnects
 *   at once, for ever, while the first query waits (6,500 connections in 10 s,
 *   the call never settles). Here a connection gets one socket: a second one
 *   is refused with `CONNECTION_CLOSED`, which fails the waiting query.
 * - **A peer that sends what a server never would**: authentication messages
 *   are handled in async functions whose errors nobody catches, so a
 *   malformed SCRAM message (or any `R` message after startup) rejects a
 *   promise unhandled and ends the host process. Here every server message is
 *   framed and checked before postgres.js sees it (type, length, the
 *   authentication sequence, SCRAM's iteration count); a peer that breaks
 *   the protocol gets its socket destroyed with the code `NOT_POSTGRES`.
 *
 * Inside TLS the bytes are encrypted and cannot be checked; a peer that
 * completes a TLS handshake is trusted as far as postgres.js trusts it.
 */
import * as net from 'node:net';

/** The parts of postgres.js's parsed options this file reads. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
  sslnegotiation?: string | null;
}

/** An error postgres.js reports as a lost connection. */
function connectionError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Message types a PostgreSQL server sends (https://www.postgresql.org/docs/current/protocol-message-formats.html). */
const SERVER_MESSAGES = new Set('RSKZECDTtn123sIcdGHWAVNv'.split('').map((c) => c.charCodeAt(0)));
const AUTH = 0x52; // 'R'
const READY = 0x5a; // 'Z'
/** Longest message accepted while starting up (errors and parameters are short), and afterwards (PostgreSQL's own cap). */
const MAX_STARTUP_MESSAGE = 1 << 20;
const MAX_MESSAGE = 0x3fffffff;
/** Authentication requests postgres.js answers: ok, cleartext, MD5, SASL start, continue, final. */
const AUTH_TYPES = new Set([0, 3, 5, 10, 11, 12]);
/** SCRAM iterations a server may ask for: PostgreSQL uses 4,096; each costs the client CPU on the event loop. */
const MAX_SCRAM_ITERATIONS = 1_000_000;

/**
 * Checks the server's side of one connection, message by message, until it
 * is trusted to the TLS layer. `check(chunk)` returns an error for the first
 * message that breaks the protocol, else undefined.
 */
class ServerMessages {
  /** Expecting the one-byte answer to an SSLRequest, framing messages, or nothing more to check (TLS). */
  #state: 'ssl-answer' | 'messages' | 'off';
  #ready = false;
  /** The 5-byte header being read, and how much of the current message is left to skip. */
  #header: number[] = [];
  #skip = 0;
  /** An authentication message being gathered whole (they are short), with its length. */
  #auth: Buffer[] | undefined;
  #authLeft = 0;
  #lastAuth = -1;

  constructor(private readonly sslPrefer: boolean, ssl: boolean) {
    this.#state = ssl ? 'ssl-answer' : 'messages';
  }

  check(chunk: Buffer): Error | undefined {
    if (this.#state === 'off') return undefined;
    let i = 0;
    if (this.#state === 'ssl-answer') {
      const answer = chunk[0];
      if (answer === 0x53) {
        this.#state = 'off'; // 'S': TLS from here on
        return undefined;
      }
      if (answer !== 0x4e) return violation('answered the SSL request with neither S nor N');
      this.#state = this.sslPrefer ? 'messages' : 'off'; // 'N': postgres.js goes on in plain text only when ssl is 'prefer'
      i = 1;
    }
    while (i < chunk.length) {
      if (this.#auth) {
        const take = Math.min(this.#authLeft, chunk.length - i);
        this.#auth.push(chunk.subarray(i, i + take));
        this.#authLeft -= take;
        i += take;
        if (this.#authLeft === 0) {
          const problem = this.checkAuth(Buffer.concat(this.#auth));
          this.#auth = undefined;
          if (problem) return problem;
        }
        continue;
      }
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - i);
        this.#skip -= take;
        i += take;
        continue;
      }
      this.#header.push(chunk[i++]);
      if (this.#header.length < 5) continue;
      const [type, a, b, c, d] = this.#header;
      this.#header = [];
      const length = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
      if (!SERVER_MESSAGES.has(type)) return violation(`sent a message of unknown type ${type}`);
      if (length < 4 || length > (this.#ready ? MAX_MESSAGE : MAX_STARTUP_MESSAGE)) return violation(`sent a message of impossible length ${length}`);
      if (type === AUTH) {
        if (this.#ready) return violation('asked to authenticate again after startup');
        if (length < 8 || length > 4096) return violation(`sent an authentication message of length ${length}`);
        this.#auth = [];
        this.#authLeft = length - 4;
        continue;
      }
      if (type === READY) this.#ready = true;
      this.#skip = length - 4;
    }
    return undefined;
  }

  /** One whole authentication request (after its length): a type postgres.js knows, in SCRAM's order, with sane values. */
  private checkAuth(body: Buffer): Error | undefined {
    const type = body.readUInt32BE(0);
    if (!AUTH_TYPES.has(type)) return violation(`asked for authentication method ${type}, which postgres.js does not support`);
    if (type === 5 && body.length !== 8) return violation('sent an MD5 request without its 4-byte salt');
    if (type === 11 && this.#lastAuth !== 10) return violation('continued a SCRAM exchange it never started');
    if (type === 12 && this.#lastAuth !== 11) return violation('finished a SCRAM exchange it never continued');
    if (type === 11) {
      const fields = new Map(body.toString('utf8', 4).split(',').map((f) => [f[0], f.slice(2)] as const));
      const iterations = Number(fields.get('i'));
      if (!fields.get('r') || !/^[A-Za-z0-9+/]+={0,2}$/.test(fields.get('s') ?? '') || !Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
        return violation('sent a malformed SCRAM challenge');
      }
    }
    this.#lastAuth = type;
    return undefined;
  }
}

function violation(what: string): Error {
  return connectionError('NOT_POSTGRES', `the server does not speak the PostgreSQL protocol: it ${what} (is this the right port?)`);
}

/**
 * Makes the `socket` option for one postgres.js client: the first call opens
 * a guarded socket (each host of the URL in turn, within `timeoutMs`); any
 * later call (postgres.js reconnecting) is refused. `abort()` destroys what
 * is open or opening, for a connect that ran out of time.
 */
export function guardedSocket(timeoutMs: number): {
  socket: (options: SocketOptions) => Promise<net.Socket>;
  abort(): void;
  /** When the server last sent anything (ms since the epoch; 0 before it has). */
  lastData(): number;
} {
  let used = false;
  let current: net.Socket | undefined;
  let aborted = false;
  const activity = { last: 0 };
  return {
    abort() {
      aborted = true;
      current?.destroy();
    },
    lastData: () => activity.last,
    async socket(options) {
      if (used || aborted) throw connectionError('CONNECTION_CLOSED', 'the connection to PostgreSQL was closed');
      used = true;
      const targets: net.NetConnectOpts[] = options.path ? [{ path: options.path }] : options.host.map((host, i) => ({ host, port: options.port[i] ?? options.port[0] }));
      let failure: unknown;
      for (const target of targets) {
        try {
          const socket = await open(target, timeoutMs, (s) => (current = s));
          const ssl = Boolean(options.ssl) && options.sslnegotiation !== 'direct';
          guard(socket, new ServerMessages(options.ssl === 'prefer', ssl), activity);
          // postgres.js sets TLS's servername from socket.host, as for the sockets it opens itself.
          Object.assign(socket, { host: 'host' in target ? target.host : undefined, port: 'port' in target ? target.port : undefined });
          return socket;
        } catch (error) {
          failure = error;
          if (aborted) break;
        }
      }
      throw failure;
    },
  };
}

/** Connects, or fails with postgres.js's codes (`CONNECT_TIMEOUT`, the socket's own). */
function open(target: net.NetConnectOpts, timeoutMs: number, track: (socket: net.Socket) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target);
    track(socket);
    const done = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect).off('error', onError).off('close', onClose);
    };
    const onConnect = () => {
      done();
      resolve(socket);
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      reject(connectionError('CONNECTION_CLOSED', 'the connection to PostgreSQL was closed while opening'));
    };
    const timer = setTimeout(() => {
      done();
      socket.destroy();
      reject(connectionError('CONNECT_TIMEOUT', 'timed out opening a connection to PostgreSQL'));
    }, timeoutMs);
    socket.once('connect', onConnect).once('error', onError).once('close', onClose);
  });
}

/**
 * Checks every chunk before postgres.js's 'data' listener sees it: a chunk
 * with a message that breaks the protocol is dropped and the socket
 * destroyed with the error (postgres.js then fails the waiting query).
 * Readable streams deliver chunks through `emit('data')`, so that is where
 * the check goes.
 */
function guard(socket: net.Socket, messages: ServerMessages, activity: { last: number }): void {
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  let broken = false;
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'data') {
      if (broken) return false;
      activity.last = Date.now();
      const problem = messages.check(args[0] as Buffer);
      if (problem) {
        broken = true;
        socket.destroy(problem);
        return false;
      }
    }
    return emit(event, ...args);
  }) as typeof socket.emit;
}
