/**
 * AIMemo's SQLite tables, as Drizzle definitions.
 *
 * This file is the `schema:` input of drizzle-kit for `migrations/sqlite` and is
 * exported as `aimemo/drizzle/sqlite`, so an app can query or join `memories`.
 * An app running its own drizzle-kit on the same file keeps AIMemo's tables
 * out of it with {@link EXCLUDE_AIMEMO_TABLES}, and never imports this module
 * into the files its `schema:` points at (docs/connections.md).
 *
 * @packageDocumentation
 * @module aimemo/drizzle/sqlite
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** A JSON value, as stored in `metadata`. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/**
 * One row per memory.
 *
 * `rid` is an explicit `INTEGER PRIMARY KEY` (the rowid alias) because it is the
 * FTS5 `content_rowid`: implicit rowids may be renumbered by `VACUUM`
 * (https://sqlite.org/lang_vacuum.html), which would desynchronise the index.
 * The public identity is `(namespace, id)`.
 */
export const memories = sqliteTable(
  'memories',
  {
    rid: integer('rid').primaryKey(),
    namespace: text('namespace').notNull(),
    id: text('id').notNull(),
    content: text('content').notNull(),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, Json>>().notNull().default(sql`'{}'`),
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    timestamp: integer('timestamp', { mode: 'timestamp_ms' }).notNull(),
    /**
     * The namespace as one full-text token, {@link namespaceToken}: the `fts_ns`
     * column of {@link MEMORIES_FTS}. Computed by SQLite, never stored or written.
     */
    ftsNs: text('fts_ns').generatedAlwaysAs(sql`'ns' || hex(namespace) || '0'`, { mode: 'virtual' }),
    /**
     * When the memory expires (ms since the epoch), or NULL: never. Reads
     * leave out rows with `expires_at <= now`; purging deletes them. Migration
     * `expiry` (an `ALTER TABLE … ADD`: no table rewrite).
     */
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('memories_ns_id_uq').on(t.namespace, t.id),
    index('memories_ns_ts_idx').on(t.namespace, t.timestamp),
    // Purging expired memories is a range scan of this index; it holds only the rows that expire.
    index('memories_expires_idx').on(t.expiresAt).where(sql`${t.expiresAt} IS NOT NULL`),
  ],
);

/**
 * The FTS5 external-content table over `memories` (tokenizer `porter
 * unicode61 remove_diacritics 0`) with two columns: `content`, and `fts_ns`,
 * one token per memory naming its namespace ({@link namespaceToken}), so a
 * search narrows to one namespace inside the index. Kept in sync by the
 * triggers below. Created by the custom migration `0001_fts5-index` and
 * remade by `0002_fts5-namespace`: drizzle-kit cannot declare virtual tables
 * or triggers (drizzle-orm #2046).
 */
export const MEMORIES_FTS = 'memories_fts';

/**
 * The token `memories.fts_ns` holds for a namespace, computed in JavaScript:
 * `'ns' || hex(namespace) || '0'` (hex of the UTF-8 bytes; FTS5 folds the
 * case). Letters and digits only, so the tokenizer keeps it whole; the final
 * digit keeps the porter stemmer off it.
 */
export function namespaceToken(namespace: string): string {
  return `ns${Buffer.from(namespace, 'utf8').toString('hex')}0`;
}

/** The triggers that keep {@link MEMORIES_FTS} in sync; created by `0001_fts5-index`, replaced by `0002_fts5-namespace`. */
export const MEMORIES_FTS_TRIGGERS = ['memories_fts_ai', 'memories_fts_ad', 'memories_fts_au'] as const;

/**
 * The impact-ordered search index beside {@link MEMORIES_FTS} (exact BM25 with
 * per-namespace statistics; src/search/top-k.ts), created by the custom
 * migration `0003_search-index`: WITHOUT ROWID tables and triggers, which
 * drizzle-kit cannot declare. Every name starts with `memories_`, so one
 * `tablesFilter` entry keeps them out of an app's drizzle-kit.
 */
export const SEARCH_INDEX = {
  /** `ns` (integer id), `namespace`, `n` (memories), `total_dl` (their total length). */
  namespaces: 'memories_ns',
  /** `(ns, term)` → `df`. */
  terms: 'memories_terms',
  /** `(ns, term, tf, dl, ts DESC, rid DESC)`: each (namespace, word, tf) list shortest first. */
  postings: 'memories_postings',
  /** `rid` → `ns`, `dl`, `ts`, `terms` ("word tf word tf …"). */
  docs: 'memories_docs',
  /** `rid`s whose index entries are missing or stale. */
  pending: 'memories_pending',
} as const;

/** The triggers that queue written memories in `memories_pending`; created by `0003_search-index`. */
export const SEARCH_INDEX_TRIGGERS = ['memories_index_ai', 'memories_index_ad', 'memories_index_au'] as const;

/**
 * The `tablesFilter` an app's own drizzle.config.ts needs on a SQLite file
 * AIMemo also uses, so that `drizzle-kit push` and `pull` never see AIMemo's
 * tables (without it `push` offers to drop them, and drops an empty one
 * without asking): `memories`, every `memories_*` table (FTS5 and its shadow
 * tables, the search index) and every `__aimemo_*` table (the migrations
 * record, compatibility markers).
 * The one source of this advice; docs/connections.md quotes it.
 *
 * Do not import this module into the files the app's `schema:` points at
 * either: `drizzle-kit generate` would then write `CREATE TABLE memories`
 * into the app's own migrations (import it where you query instead).
 *
 * @example
 * // drizzle.config.ts of the app
 * import { EXCLUDE_AIMEMO_TABLES } from 'aimemo/drizzle/sqlite';
 * export default defineConfig({ dialect: 'sqlite', schema: './src/db/schema.ts', tablesFilter: [...EXCLUDE_AIMEMO_TABLES] });
 */
export const EXCLUDE_AIMEMO_TABLES = ['!memories', '!memories_*', '!__aimemo_*'] as const;
