-- aimemo:online
-- drizzle-kit generate --name ns-ts-seq-index wrote the CREATE INDEX (drizzle/postgres.ts); the marker line above is hand-written.
-- The neighbours of a search hit in time, ties by save order (seq, migration 0003_save-order). AIMemo's runner builds it
-- with CREATE INDEX CONCURRENTLY outside a transaction, so readers and writers never wait for it
-- (docs/schema.md, "Online migrations"); drizzle-kit migrate builds it as written, locking writers out meanwhile.
CREATE INDEX "memories_ns_ts_seq_idx" ON "aimemo"."memories" USING btree ("namespace","timestamp","seq");