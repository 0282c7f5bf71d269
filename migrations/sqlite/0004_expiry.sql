-- drizzle-kit generate --name expiry (drizzle/sqlite.ts). ALTER TABLE ... ADD of a nullable column without
-- a default changes the schema only (no table rewrite, so the FTS triggers stay). The partial index holds only
-- the rows that expire (none before this release); building it reads the table once, under the migration's
-- write lock (readers go on: WAL).
ALTER TABLE `memories` ADD `expires_at` integer;--> statement-breakpoint
CREATE INDEX `memories_expires_idx` ON `memories` (`expires_at`) WHERE "memories"."expires_at" IS NOT NULL;