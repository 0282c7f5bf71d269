-- drizzle-kit generate --name expiry (drizzle/postgres.ts): the column expires_at, NULL for every existing row.
-- A nullable column without a default is a catalog change only: no table rewrite, instant at any size. It takes
-- an ACCESS EXCLUSIVE lock for that instant (after waiting for running statements on the table).
-- Its index is the next migration, 0008_expiry-index, built online.
ALTER TABLE "aimemo"."memories" ADD COLUMN "expires_at" timestamp (3) with time zone;