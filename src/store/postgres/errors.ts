/**
 * Turns postgres.js / PGlite errors into AIMemo errors.
 * SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { AIMemoError, DatabaseUnavailableError, QueryTimeoutError } from '../../errors';
import { unwrapDriverError, withoutUserData } from '../driver-error';

/** Node socket errors and postgres.js's own codes for a connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'NOT_POSTGRES', // socket.ts: the peer broke the protocol (a wrong port, a proxy, an HTTP server)
]);

/** SQLSTATEs that mean the server cannot serve us now (not that the query is wrong). */
function isUnavailableState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now (starting up)
    code === '53300' || // too_many_connections
    code === '28000' || // invalid_authorization_specification
    code === '28P01' || // invalid_password
    code === '3D000' // invalid_catalog_name: the database does not exist
  );
}

/** True for an error after which the connection should not be reused. */
export function isConnectionError(error: unknown): boolean {
  const code = (unwrapDriverError(error) as { code?: unknown })?.code;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableState(code));
}

/** True for the server cancelling a statement because of `statement_timeout` (57014 is also a user's cancel). */
export function isStatementTimeout(error: unknown): boolean {
  const e = unwrapDriverError(error) as { code?: unknown; message?: unknown };
  return e?.code === '57014' && typeof e.message === 'string' && /statement timeout/.test(e.message);
}

/**
 * Maps a driver error; anything unknown comes back with its class and code,
 * unwrapped from Drizzle's wrapper and without user data (see `driver-error.ts`).
 * `statementTimeout` (seconds) names the limit in a {@link QueryTimeoutError}.
 */
export function mapPostgresError(error: unknown, where: string, statementTimeout?: number): unknown {
  if (error instanceof AIMemoError) return withoutUserData(error);
  const cause = withoutUserData(unwrapDriverError(error));
  if (isStatementTimeout(cause)) return new QueryTimeoutError(statementTimeout || undefined, { cause });
  if (isConnectionError(cause)) {
    const code = (cause as { code: string }).code;
    const message = cause instanceof Error ? cause.message : String(cause);
    return new DatabaseUnavailableError(`cannot reach PostgreSQL at ${where}: ${code}: ${message}`, { cause });
  }
  return cause;
}
