-- drizzle-kit generate --name fts5-namespace wrote the ALTER TABLE (the fts_ns column is in drizzle/sqlite.ts);
-- the FTS5 part after it is hand-written, as kit cannot express virtual tables or triggers.
-- Puts the namespace into the FTS5 index as one token per memory, in a second column `fts_ns`, so that a
-- search finds the memories of one namespace inside the index (`fts_ns : "ns…0" AND content : (…)`)
-- instead of matching the whole table and dropping other namespaces' rows after the join (issue 5:
-- at 1,000,000 memories in 100 namespaces, a common word's p50 went from 63 ms to 3 ms).
-- The token is 'ns' || hex(namespace) || '0': letters and digits only, so unicode61 keeps it whole
-- whatever the namespace holds; distinct namespaces give distinct tokens; the final digit keeps
-- the porter stemmer from shortening it (its rules only strip letter endings).
-- The token is memories.fts_ns, a VIRTUAL generated column (computed when read, never stored), so the
-- external content table still supplies every FTS5 column for 'rebuild' and 'integrity-check'. (A
-- view as the content table was tried first: SQLite then refuses drizzle-kit's table-recreating
-- migrations, whose RENAME finds the view pointing at a dropped table.)
-- FTS5 cannot add a column, so the index is dropped and rebuilt from memories (tens of seconds a
-- million rows; writers wait meanwhile).
-- The triggers keep their names; an update that changes neither content nor namespace (a new tag,
-- say) no longer re-indexes the text.
ALTER TABLE `memories` ADD `fts_ns` text GENERATED ALWAYS AS ('ns' || hex(namespace) || '0') VIRTUAL;
--> statement-breakpoint
DROP TRIGGER `memories_fts_ai`;
--> statement-breakpoint
DROP TRIGGER `memories_fts_ad`;
--> statement-breakpoint
DROP TRIGGER `memories_fts_au`;
--> statement-breakpoint
DROP TABLE `memories_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `memories_fts` USING fts5(content, fts_ns, content='memories', content_rowid='rid', tokenize='porter unicode61 remove_diacritics 0');
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ai` AFTER INSERT ON `memories` BEGIN
  INSERT INTO memories_fts(rowid, content, fts_ns) VALUES (new.rid, new.content, new.fts_ns);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ad` AFTER DELETE ON `memories` BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content, fts_ns) VALUES ('delete', old.rid, old.content, old.fts_ns);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_au` AFTER UPDATE OF content, namespace ON `memories` WHEN old.content IS NOT new.content OR old.namespace IS NOT new.namespace BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content, fts_ns) VALUES ('delete', old.rid, old.content, old.fts_ns);
  INSERT INTO memories_fts(rowid, content, fts_ns) VALUES (new.rid, new.content, new.fts_ns);
END;
--> statement-breakpoint
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
