/**
 * The conformance suite runs against any {@link MemoryStore}: the built-in
 * ones (SQLite file and :memory:, a PostgreSQL server, PGlite) and any custom
 * store. A runner gives it a harness and calls `describeMemoryStore(harness)`.
 */
import type { MemoryStore } from '../../src';

export interface StoreHarness {
  /** Shown in test names: `${name}#search`. */
  name: string;
  /** Runs once before all suites (start a server, create a database). */
  setup?(): Promise<void>;
  /** Runs once after all suites. */
  teardown?(): Promise<void>;
  /** Milliseconds `setup` may take. @defaultValue 60000 */
  setupTimeoutMs?: number;
  /** A new store on the harness's database; every suite makes its own. */
  create(): Promise<MemoryStore>;
  /** Closes the store (and removes anything `create` made for it alone). */
  destroy(store: MemoryStore): Promise<void>;
  /**
   * Optional: makes the database itself refuse one content string (a trigger),
   * with an error whose message contains 'poisoned row', and returns that
   * string, so the transaction suite can prove that a batch failing in
   * the database leaves nothing behind. Suites that need it skip, saying why,
   * when a harness does not provide it.
   */
  poison?(store: MemoryStore): Promise<string>;
  /**
   * Known limitations of the driver underneath, each with the reason printed
   * when a test is skipped because of it.
   */
  limitations?: {
    /** The driver drops a U+FEFF at the start of a text value it returns. */
    leadingBom?: string;
  };
}
