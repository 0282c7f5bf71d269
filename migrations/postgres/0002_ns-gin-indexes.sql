-- drizzle-kit generate --name ns-gin-indexes wrote the DROP/CREATE INDEX lines (drizzle/postgres.ts);
-- the CREATE EXTENSION above them is hand-written, as kit does not emit it.
-- GIN indexes over (namespace, search_vector) and (namespace, tags) replace the ones over
-- search_vector and tags alone: every search, word count and tags filter names one namespace, and
-- the index then yields only that namespace's rows instead of every row holding the word (issue 5:
-- at 1,000,000 memories a common word's p50 went from 7.9 to 2.5 ms).
-- A text column in a GIN index needs the btree_gin extension (shipped with PostgreSQL; offered by
-- Neon, Supabase, RDS, Cloud SQL, Azure; PGlite: new PGlite({ extensions: { btree_gin } })). It is a
-- trusted extension: a role with CREATE on the database may install it. A role without that
-- privilege needs it installed first: CREATE EXTENSION btree_gin SCHEMA aimemo; (IF NOT EXISTS then
-- skips it). It goes into the schema aimemo, next to the tables that use it.
-- Building the two indexes reads the whole table (about a minute a million rows); writers wait.
CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA "aimemo";
--> statement-breakpoint
DROP INDEX "aimemo"."memories_search_idx";--> statement-breakpoint
DROP INDEX "aimemo"."memories_tags_idx";--> statement-breakpoint
CREATE INDEX "memories_ns_search_idx" ON "aimemo"."memories" USING gin ("namespace","search_vector");--> statement-breakpoint
CREATE INDEX "memories_ns_tags_idx" ON "aimemo"."memories" USING gin ("namespace","tags");