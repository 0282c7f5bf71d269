-- Custom migration (drizzle-kit generate --custom --name fts5-index).
-- Creates the FTS5 full-text index over memories.content and the triggers that keep it in sync.
-- drizzle-kit cannot generate virtual tables or triggers (drizzle-orm #2046), so this is hand-written.
-- External content (content='memories'): the text is stored once, in memories; the index maps
-- memories.rid (an explicit INTEGER PRIMARY KEY, stable across VACUUM) to its tokens.
-- Tokenizer: porter stemming over unicode61 with diacritics kept, so that SQLite tokenizes like
-- PostgreSQL's 'english' configuration (which keeps accents) and both find the same memories.
-- Any later migration that recreates the memories table drops these triggers with it: it must be
-- followed by one that creates them again and runs the 'rebuild' below (scripts/check-migrations.js checks).
CREATE VIRTUAL TABLE `memories_fts` USING fts5(content, content='memories', content_rowid='rid', tokenize='porter unicode61 remove_diacritics 0');
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ai` AFTER INSERT ON `memories` BEGIN
  INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ad` AFTER DELETE ON `memories` BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_au` AFTER UPDATE ON `memories` BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);
  INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);
END;
--> statement-breakpoint
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
