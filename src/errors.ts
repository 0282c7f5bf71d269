/**
 * Every error AIMemo raises on purpose is an {@link AIMemoError} with a stable
 * `code`. Driver errors that AIMemo does not recognise are rethrown with their
 * class and code, but without the fields that may hold user data (bound
 * parameters, the query, the server's detail and context lines), along the
 * whole `cause` chain: see `store/driver-error.ts`.
 */

/** Stable machine-readable codes, one per error class. */
export type AIMemoErrorCode =
  | 'VALIDATION'
  | 'DATABASE_UNAVAILABLE'
  | 'POOL_TIMEOUT'
  | 'QUERY_TIMEOUT'
  | 'SCHEMA_OUTDATED'
  | 'SCHEMA_TOO_NEW'
  | 'READ_ONLY'
  | 'MIGRATION_FAILED'
  | 'STORE_CLOSED'
  | 'UNSUPPORTED'
  | 'VERIFICATION_FAILED'
  | 'BAD_FILE'
  | 'ABORTED';

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

/**
 * A PostgreSQL statement ran longer than `statementTimeout` and was cancelled
 * (by the server's `statement_timeout`, or, when the server does not answer,
 * by the store, which then drops that connection). Nothing the statement was
 * writing was kept.
 */
export class QueryTimeoutError extends AIMemoError {
  /** The store's `statementTimeout`, or undefined when the limit was the server's own `statement_timeout`. */
  readonly timeoutSeconds: number | undefined;
  constructor(timeoutSeconds: number | undefined, options?: { cause?: unknown }) {
    super(
      'QUERY_TIMEOUT',
      `a PostgreSQL statement ran longer than ${timeoutSeconds ? `statementTimeout (${timeoutSeconds}s)` : "the server's statement_timeout"} and was cancelled; ` +
        'nothing it was writing was kept. Raise the limit, or look for a lock held by another session or a server that stopped answering.',
      options,
    );
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** The database schema is older than this version of AIMemo needs and `autoMigrate` is off. */
export class SchemaOutdatedError extends AIMemoError {
  readonly expected: string;
  readonly found: string | null;
  /**
   * @param command - what to run to migrate.
   * @param alternative - said after the command; the CLI, which has no `autoMigrate`, passes `''`.
   */
  constructor(expected: string, found: string | null, command: string, alternative = ' (or create the store with autoMigrate: true)') {
    super(
      'SCHEMA_OUTDATED',
      `the database schema is older than this version of aimemo needs: expected migration ${expected}, ` +
        `found ${found ?? 'no aimemo migrations'}. Run the migrations first: ${command}${alternative}.`,
    );
    this.expected = expected;
    this.found = found;
  }
}

/** A migration the database holds and this version of aimemo does not know (it was written by a newer version). */
export interface NewerMigration {
  /** When drizzle-kit generated it (the `created_at` recorded for it), ISO 8601. */
  generatedAt: string;
  /** The sha256 of its file, as recorded. */
  hash: string;
}

/** A newer migration marked incompatible with the releases that do not know it (see docs/schema.md). */
export interface IncompatibleMigration {
  /** Its tag, such as `0007_split-content`. */
  tag: string;
  /** The aimemo version that brought it. */
  version: string;
  /** Why older releases must not write. */
  reason: string;
}

/**
 * The database was migrated by a newer version of aimemo and one of the
 * migrations this version does not know is marked incompatible with older
 * releases: writing now could corrupt what the newer version relies on, so
 * writes are refused (reads go on). Without such a marker a newer schema is
 * only reported, once (`onSchemaNewer`, or a process warning), and writes go
 * on: that is what makes a rolling deploy or a rollback safe.
 */
export class SchemaTooNewError extends AIMemoError {
  readonly version: string;
  readonly latest: string;
  readonly incompatible: IncompatibleMigration[];
  constructor(version: string, latest: string, incompatible: IncompatibleMigration[]) {
    const first = incompatible[0];
    super(
      'SCHEMA_TOO_NEW',
      `the database was migrated by aimemo ${first.version}, whose migration ${first.tag} is incompatible with older releases ` +
        `(${first.reason}); this is aimemo ${version}, whose newest migration is ${latest}: writes are refused. ` +
        `Upgrade aimemo to ${first.version} or later.`,
    );
    this.version = version;
    this.latest = latest;
    this.incompatible = incompatible;
  }
}

/** A write on a store opened with `readonly: true`. */
export class ReadOnlyError extends AIMemoError {
  constructor(store: string, operation: string) {
    super('READ_ONLY', `${store} was opened with readonly: true; ${operation} writes, so it is refused`);
  }
}

/** Applying a schema migration failed; nothing of that migration batch was kept. */
export class MigrationError extends AIMemoError {
  readonly migration: string;
  constructor(migration: string, options?: { cause?: unknown; hint?: string }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    const hint = options?.hint ? `. ${options.hint}` : '';
    super('MIGRATION_FAILED', `migration ${migration} failed and was rolled back${reason}${hint}`, { cause: options?.cause });
    this.migration = migration;
  }
}

/** A method was called after `close()`. */
export class StoreClosedError extends AIMemoError {
  constructor(store: string) {
    super('STORE_CLOSED', `${store} is closed; create a new store to use it again`);
  }
}

/** What {@link TransferVerificationError} reports for one namespace whose copy differs from its source. */
export interface NamespaceMismatch {
  namespace: string;
  source: { count: number; checksum: string };
  destination: { count: number; checksum: string };
}

/**
 * After a transfer, a namespace's count or checksum differs between the source
 * and the destination (the source changed during the transfer, or the
 * destination holds memories the source does not). Running the transfer again
 * copies what changed; `mismatches` says where.
 */
export class TransferVerificationError extends AIMemoError {
  readonly mismatches: NamespaceMismatch[];
  constructor(mismatches: NamespaceMismatch[]) {
    const first = mismatches[0];
    const shown = mismatches
      .slice(0, 3)
      .map((m) => `${JSON.stringify(m.namespace)} (source ${m.source.count}, destination ${m.destination.count}${m.source.count === m.destination.count ? ', checksums differ' : ''})`)
      .join(', ');
    super(
      'VERIFICATION_FAILED',
      `transfer verification failed for ${mismatches.length} namespace${mismatches.length === 1 ? '' : 's'}: ${shown}${mismatches.length > 3 ? ', …' : ''}. ` +
        (first && first.destination.count > first.source.count
          ? 'The destination holds memories the source does not; clear those namespaces in the destination first, or keep them knowingly.'
          : 'The source may have changed during the transfer; run it again (unchanged memories are skipped).'),
    );
    this.mismatches = mismatches;
  }
}

/**
 * A file is not what the operation needs: not AIMemo JSON Lines (or of an
 * unsupported version), not an SQLite database, or not readable/writable.
 * Nothing was written. `line` is the 1-based line it is about, when there is one.
 */
export class BadFileError extends AIMemoError {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, message: string, options?: { line?: number; cause?: unknown }) {
    super('BAD_FILE', `${file}${options?.line === undefined ? '' : `, line ${options.line}`}: ${message}`, options);
    this.file = file;
    this.line = options?.line;
  }
}

/** A long operation was stopped through its `signal`; whole batches written before it stay. */
export class OperationAbortedError extends AIMemoError {
  constructor(operation: string, options?: { cause?: unknown }) {
    super('ABORTED', `${operation} was aborted; every batch written before it stopped is complete, and running it again continues safely`, options);
  }
}
