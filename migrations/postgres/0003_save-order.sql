-- drizzle-kit generate --name save-order (drizzle/postgres.ts): the save order of memories, which breaks
-- timestamp ties (a saveMany without timestamps shares one) in the order the caller gave. Rows saved before
-- it, or by an older version, keep seq null. Its own migration because ALTER TABLE takes an ACCESS EXCLUSIVE
-- lock: adding a nullable column without a default only touches the catalog, so the lock lasts as long as
-- this short transaction (AIMemo's runner takes it with lock_timeout 2 s and retries).
CREATE SEQUENCE "aimemo"."memories_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
ALTER TABLE "aimemo"."memories" ADD COLUMN "seq" bigint;