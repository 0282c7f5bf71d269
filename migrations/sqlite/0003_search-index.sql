-- Custom migration (drizzle-kit generate --custom --name search-index): the impact-ordered search index of
-- issue 10, beside FTS5. Hand-written: drizzle-kit cannot declare WITHOUT ROWID tables or triggers.
-- Exact BM25 with per-namespace statistics needs, per namespace, how many memories hold each word (df), how
-- many memories there are and their total length, and every word's memories in impact order (for a fixed tf,
-- shortest first); FTS5 keeps none of these per namespace (its bm25() counts table-wide, at query time).
--   memories_ns        one row per namespace: a small integer id, its memory count and total length.
--   memories_terms     (namespace id, word) -> df. A word is its FTS5 porter stem; stop words are not indexed.
--   memories_postings  one row per (memory, word): tf, the memory's length and time, ordered so that each
--                      (namespace, word, tf) list reads shortest first, newest first within a length.
--   memories_docs      one row per indexed memory: its namespace id, length, time and "word tf ..." list
--                      (scoring reads it for the memories a search meets; re-indexing reads it to remove).
--   memories_pending   memories whose index entries are missing or stale. The triggers below put every
--                      written memory here, whoever writes it (this version, an older one still running,
--                      plain SQL); the store indexes pending memories in the same transaction as its own
--                      writes, and before it searches a namespace that has some. Words come from FTS5's own
--                      tokenizer, which only SQLite's C code can run, so a trigger cannot index by itself.
-- Every memory already there is queued: the store indexes them (in batches, readers never wait: a search of
-- a namespace indexes that namespace's first; `aimemo migrate` and optimize() index everything).
CREATE TABLE `memories_ns` (
  `ns` integer PRIMARY KEY,
  `namespace` text NOT NULL UNIQUE,
  `n` integer NOT NULL DEFAULT 0,
  `total_dl` integer NOT NULL DEFAULT 0
);
--> statement-breakpoint
CREATE TABLE `memories_terms` (
  `ns` integer NOT NULL,
  `term` text NOT NULL,
  `df` integer NOT NULL,
  PRIMARY KEY (`ns`, `term`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `memories_postings` (
  `ns` integer NOT NULL,
  `term` text NOT NULL,
  `tf` integer NOT NULL,
  `dl` integer NOT NULL,
  `ts` integer NOT NULL,
  `rid` integer NOT NULL,
  PRIMARY KEY (`ns`, `term`, `tf`, `dl`, `ts` DESC, `rid` DESC)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `memories_docs` (
  `rid` integer PRIMARY KEY,
  `ns` integer NOT NULL,
  `dl` integer NOT NULL,
  `ts` integer NOT NULL,
  `terms` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `memories_pending` (
  `rid` integer PRIMARY KEY
);
--> statement-breakpoint
CREATE TRIGGER `memories_index_ai` AFTER INSERT ON `memories` BEGIN
  INSERT OR IGNORE INTO memories_pending(rid) VALUES (new.rid);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_index_ad` AFTER DELETE ON `memories` BEGIN
  INSERT OR IGNORE INTO memories_pending(rid) VALUES (old.rid);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_index_au` AFTER UPDATE OF content, namespace, `timestamp`, rid ON `memories` BEGIN
  INSERT OR IGNORE INTO memories_pending(rid) VALUES (old.rid);
  INSERT OR IGNORE INTO memories_pending(rid) VALUES (new.rid);
END;
--> statement-breakpoint
INSERT INTO memories_pending(rid) SELECT rid FROM memories;
