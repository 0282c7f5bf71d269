import { describe, expect, it } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AIMemoError, DatabaseUnavailableError, MigrationError, QueryTimeoutError, ValidationError } from '../../src/errors';
import { leakedSecrets } from '../helpers/leaks';
import { mapPostgresError } from '../../src/store/postgres/errors';
import { mapSQLiteError } from '../../src/store/sqlite/errors';

const driverError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('mapSQLiteError', () => {
  it.each(['SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY', 'SQLITE_FULL'])(
    '%s becomes DatabaseUnavailableError',
    (code) => {
      const mapped = mapSQLiteError(driverError(code), './x.db');
      expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
      expect((mapped as Error).message).toContain('./x.db');
      expect((mapped as Error).cause).toBeInstanceOf(Error);
    },
  );

  it.each(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_CORRUPT'])('%s is rethrown unchanged', (code) => {
    const error = driverError(code);
    expect(mapSQLiteError(error, 'x')).toBe(error);
  });

  it('unwraps DrizzleQueryError, whose message holds the parameters', () => {
    const cause = driverError('SQLITE_CONSTRAINT');
    const wrapped = new DrizzleQueryError('insert into memories values (?)', ['secret content'], cause);
    expect(wrapped.message).toContain('secret content');
    expect(mapSQLiteError(wrapped, 'x')).toBe(cause);
    expect(mapSQLiteError(new DrizzleQueryError('q', [], driverError('SQLITE_BUSY')), 'x')).toBeInstanceOf(DatabaseUnavailableError);
  });

  it('passes AIMemo errors through', () => {
    const e = new ValidationError('content', 'must be a non-empty string');
    expect(mapSQLiteError(e, 'x')).toBe(e);
  });
});

describe('mapPostgresError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', '57P01', '57P03', '08006', '28P01', '3D000', '53300'])(
    '%s becomes DatabaseUnavailableError',
    (code) => {
      const mapped = mapPostgresError(driverError(code), 'db.example:5432/app');
      expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
      expect(mapped).toBeInstanceOf(AIMemoError);
      expect((mapped as Error).message).toContain('db.example:5432/app');
    },
  );

  it.each(['23505', '42P01', '22P02', '40001'])('%s is rethrown unchanged', (code) => {
    const error = driverError(code);
    expect(mapPostgresError(error, 'x')).toBe(error);
  });

  it('unwraps DrizzleQueryError', () => {
    const cause = driverError('23505');
    expect(mapPostgresError(new DrizzleQueryError('q', ['secret'], cause), 'x')).toBe(cause);
  });

  it('rethrows non-Error values unchanged', () => {
    expect(mapPostgresError('weird', 'x')).toBe('weird');
  });
});

describe('errors leave the library without user data (issue 11, item 12)', () => {
  /** A postgres.js error as connection.js builds it: the statement and bound values as non-enumerable, read-only fields. */
  function postgresJsError(code: string, message: string, fields: Record<string, unknown> = {}) {
    class PostgresError extends Error {}
    const error = Object.assign(new PostgresError(message), { name: 'PostgresError', code, severity: 'ERROR', ...fields });
    Object.defineProperties(error, {
      query: { value: 'INSERT INTO aimemo.memories … VALUES ($1)', enumerable: false },
      parameters: { value: ['secret content hunter2'], enumerable: false },
      args: { value: ['secret content hunter2'], enumerable: false },
      types: { value: [25], enumerable: false },
    });
    return error;
  }

  it('strips parameters, query, detail and context from an unknown PostgreSQL error, keeping its class and code', () => {
    const error = postgresJsError('23514', 'new row violates check constraint "c"', {
      detail: 'Failing row contains (ns, id, secret content hunter2).',
      where: 'SQL function … hunter2',
      constraint_name: 'c',
    });
    const mapped = mapPostgresError(error, 'x') as Error & Record<string, unknown>;
    expect(mapped).toBeInstanceOf(Object.getPrototypeOf(error).constructor);
    expect(mapped).toMatchObject({ name: 'PostgresError', code: '23514', constraint_name: 'c', message: 'new row violates check constraint "c"' });
    expect(leakedSecrets(mapped, ['hunter2'])).toEqual([]);
    for (const field of ['query', 'parameters', 'args', 'detail', 'where']) expect(Object.getOwnPropertyNames(mapped)).not.toContain(field);
  });

  it.each([
    ['22P02', 'invalid input syntax for type json: "hunter2"', 'invalid input syntax for type json'],
    ['22003', 'value "hunter2hunter2" is out of range for type integer', 'value "…" is out of range for type integer'],
    ['42601', 'syntax error in tsquery: "hunter2 &"', 'syntax error in tsquery'],
  ])('drops the value a %s message quotes', (code, message, kept) => {
    const mapped = mapPostgresError(postgresJsError(code, message), 'x') as Error;
    expect(mapped.message).toBe(kept);
    expect(leakedSecrets(mapped, ['hunter2'])).toEqual([]);
  });

  it('strips PGlite’s query and params, and keeps the SQLSTATE', () => {
    const error = Object.assign(new Error('duplicate key value violates unique constraint "memories_pkey"'), {
      name: 'error',
      code: '23505',
      detail: 'Key (namespace, id)=(ns, hunter2) already exists.',
      query: 'INSERT …',
      params: ['hunter2'],
      queryOptions: {},
    });
    const mapped = mapPostgresError(error, 'x') as Error & { code: string };
    expect(mapped.code).toBe('23505');
    expect(leakedSecrets(mapped, ['hunter2'])).toEqual([]);
  });

  it('cleans the whole cause chain, under AIMemo errors too', () => {
    const driver = postgresJsError('57P01', 'terminating connection due to administrator command');
    const wrapped = new DrizzleQueryError('INSERT …', ['hunter2'], driver);
    const mapped = mapPostgresError(wrapped, 'x') as Error;
    expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
    expect(leakedSecrets(mapped, ['hunter2'])).toEqual([]);
    const migration = new MigrationError('0003_x', { cause: postgresJsError('42P07', 'relation "x" already exists') }); // as migrate/postgres.ts builds it
    expect(leakedSecrets(mapPostgresError(migration, 'x'), ['hunter2'])).toEqual([]);
  });

  it('never passes on a Drizzle wrapper without a cause (its message is the query and its parameters)', () => {
    const mapped = mapSQLiteError(new DrizzleQueryError('insert …', ['hunter2'], undefined as never), 'x') as Error;
    expect(mapped.message).not.toContain('hunter2');
    expect(leakedSecrets(mapped, ['hunter2'])).toEqual([]);
  });

  it('drops the part of an FTS5 syntax error that quotes the query', () => {
    const mapped = mapSQLiteError(driverError('SQLITE_ERROR', 'fts5: syntax error near "hunter2"'), 'x') as Error;
    expect(mapped.message).toBe('fts5: syntax error');
    expect((mapped as Error & { code: string }).code).toBe('SQLITE_ERROR');
  });

  it('maps a statement_timeout cancellation to QueryTimeoutError, and a cancel by hand to nothing special', () => {
    const timeout = mapPostgresError(postgresJsError('57014', 'canceling statement due to statement timeout'), 'x', 5);
    expect(timeout).toBeInstanceOf(QueryTimeoutError);
    expect((timeout as QueryTimeoutError).timeoutSeconds).toBe(5);
    expect((timeout as Error).message).toMatch(/statementTimeout \(5s\)/);
    expect(mapPostgresError(postgresJsError('57014', 'canceling statement due to user request'), 'x')).not.toBeInstanceOf(QueryTimeoutError);
  });
});
