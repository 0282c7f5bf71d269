/**
 * Every error AIMemo raises on purpose is an {@link AIMemoError} with a stable
 * `code`. Driver errors that AIMemo does not recognise are rethrown unchanged.
 */

/** Stable machine-readable codes, one per error class. */
export type AIMemoErrorCode =
  | 'VALIDATION'
  | 'DATABASE_UNAVAILABLE'
  | 'POOL_TIMEOUT'
  | 'SCHEMA_OUTDATED'
  | 'MIGRATION_FAILED'
  | 'STORE_CLOSED'
  | 'UNSUPPORTED';

/**
 * Base class of every AIMemo error.
 *
 * @example
 * try { await store.save({ content: '' }); }
 * catch (e) { if (e instanceof AIMemoError) console.log(e.code); }
 */
export class AIMemoError extends Error {
  readonly code: AIMemoErrorCode;
  constructor(code: AIMemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Bad input, refused before anything was written. `field` is the path as the
 * caller wrote it (`memories[2].tags[0]`), `rule` what it must satisfy.
 */
export class ValidationError extends AIMemoError {
  readonly field: string;
  readonly rule: string;
  constructor(field: string, rule: string, got?: string) {
    super('VALIDATION', `${field} ${rule}${got === undefined ? '' : `; got ${got}`}`);
    this.field = field;
    this.rule = rule;
  }
}

/** The database could not be reached (refused, timed out, bad host, file not openable). */
export class DatabaseUnavailableError extends AIMemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATABASE_UNAVAILABLE', message, options);
  }
}

/** Every pooled connection stayed busy for longer than `poolTimeout`. */
export class PoolTimeoutError extends AIMemoError {
  constructor(timeoutSeconds: number, status: { size: number; overflow: number; checkedOut: number }) {
    super(
      'POOL_TIMEOUT',
      `no PostgreSQL connection became free within poolTimeout (${timeoutSeconds}s); ` +
        `${status.checkedOut} busy, pool ${status.size} + overflow ${status.overflow}. ` +
        'Raise poolSize/maxOverflow or poolTimeout, or run fewer queries at once.',
    );
  }
}

/** The database schema is older than this version of AIMemo needs and `autoMigrate` is off. */
export class SchemaOutdatedError extends AIMemoError {
  readonly expected: string;
  readonly found: string | null;
  constructor(expected: string, found: string | null, command: string) {
    super(
      'SCHEMA_OUTDATED',
      `the database schema is older than this version of aimemo needs: expected migration ${expected}, ` +
        `found ${found ?? 'no aimemo migrations'}. Run the migrations first: ${command} ` +
        '(or create the store with autoMigrate: true).',
    );
    this.expected = expected;
    this.found = found;
  }
}

/** Applying a schema migration failed; nothing of that migration batch was kept. */
export class MigrationError extends AIMemoError {
  readonly migration: string;
  constructor(migration: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('MIGRATION_FAILED', `migration ${migration} failed and was rolled back${reason}`, options);
    this.migration = migration;
  }
}

/** A method was called after `close()`. */
export class StoreClosedError extends AIMemoError {
  constructor(store: string) {
    super('STORE_CLOSED', `${store} is closed; create a new store to use it again`);
  }
}
