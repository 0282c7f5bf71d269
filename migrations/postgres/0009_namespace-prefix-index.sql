-- aimemo:online
-- drizzle-kit generate --name namespace-prefix-index wrote the CREATE INDEX (drizzle/postgres.ts); the marker line above is hand-written.
-- The namespaces under a namespace path prefix (src/namespaces/codec.ts) are one range in byte order: this index on the
-- namespace registry in COLLATE "C" serves it (the unique index is in the database's collation, whose order is not bytes).
-- AIMemo's runner builds it with CREATE INDEX CONCURRENTLY outside a transaction (docs/schema.md, "Online migrations").
CREATE INDEX "search_namespaces_namespace_c_idx" ON "aimemo"."search_namespaces" USING btree ("namespace" COLLATE "C");
