-- aimemo:online
-- drizzle-kit generate --name expiry-index (drizzle/postgres.ts); the marker above is hand-written. A partial
-- btree over the rows that expire (none before this release): purging expired memories is a range scan of it.
-- Marked online: AIMemo's runner builds it CONCURRENTLY outside a transaction (reads and writes go on);
-- drizzle-kit migrate runs it as written, in its transaction, where writers wait while it reads the table.
CREATE INDEX "memories_expires_idx" ON "aimemo"."memories" USING btree ("expires_at") WHERE "aimemo"."memories"."expires_at" IS NOT NULL;