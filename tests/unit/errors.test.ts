import { describe, expect, it } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AIMemoError, DatabaseUnavailableError, ValidationError } from '../../src/errors';
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
