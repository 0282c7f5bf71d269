-- Converts aimemo.memories into a table PARTITION BY HASH (namespace) with 8
-- partitions, keeping every row, column (the generated search_vector too),
-- default, index, constraint and grant. See docs/scaling.md.
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/partition-memories.sql
--
-- - Run it as the role that owns aimemo.memories (the role AIMemo migrates
--   with; a superuser can `SET ROLE <owner>;` first), so that the owner of
--   the new tables can still run AIMemo's later migrations.
-- - One transaction: it completes, or it changes nothing.
-- - It holds an ACCESS EXCLUSIVE lock on aimemo.memories from start to end:
--   every read and write of AIMemo waits meanwhile. It copies every row and
--   rebuilds every index, so plan a maintenance window; stop the apps (or let
--   them wait) and measure the time on a copy of the database first.
-- - It works at any AIMemo version: it recreates the indexes and constraints
--   the table has (pg_get_indexdef, pg_get_constraintdef) rather than a list
--   written here. tests/migrations/partitioned.int.test.ts runs this file.
-- - The number of partitions is set once below (`partitions`).

BEGIN;

-- Give up instead of queueing behind a long transaction (and blocking everyone behind us).
SET LOCAL lock_timeout = '10s';
LOCK TABLE aimemo.memories IN ACCESS EXCLUSIVE MODE;

DO $$
DECLARE
  t pg_class%ROWTYPE;
BEGIN
  SELECT * INTO t FROM pg_class WHERE oid = 'aimemo.memories'::regclass;
  IF t.relkind = 'p' THEN
    RAISE EXCEPTION 'aimemo.memories is partitioned already';
  END IF;
  IF t.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run this as the owner of aimemo.memories: SET ROLE %;', t.relowner::regrole;
  END IF;
END $$;

-- 1. Write down what to rebuild on the new table: the primary key (and any
--    unique constraint), the other indexes, and the grants.
CREATE TEMP TABLE aimemo_rebuild ON COMMIT DROP AS
  SELECT 1 AS step, format('ALTER TABLE aimemo.memories ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS ddl
  FROM pg_constraint
  WHERE conrelid = 'aimemo.memories'::regclass AND contype IN ('p', 'u')
  UNION ALL
  SELECT 2, pg_get_indexdef(indexrelid)
  FROM pg_index
  WHERE indrelid = 'aimemo.memories'::regclass
    AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = 'aimemo.memories'::regclass)
  UNION ALL
  SELECT 3, format('GRANT %s ON aimemo.memories TO %s%s', a.privilege_type,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM pg_class c, aclexplode(c.relacl) a
  WHERE c.oid = 'aimemo.memories'::regclass AND a.grantee <> c.relowner;

-- 2. The new, empty, partitioned table beside the old one: the same columns,
--    types, NOT NULLs, defaults, generated expression and CHECK constraints
--    (LIKE … INCLUDING ALL), no indexes yet (they are built after the copy).
ALTER TABLE aimemo.memories RENAME TO memories_unpartitioned;
CREATE TABLE aimemo.memories (LIKE aimemo.memories_unpartitioned INCLUDING ALL EXCLUDING INDEXES)
  PARTITION BY HASH (namespace);

DO $$
DECLARE
  partitions CONSTANT int := 8;
BEGIN
  FOR r IN 0 .. partitions - 1 LOOP
    EXECUTE format('CREATE TABLE aimemo.%I PARTITION OF aimemo.memories FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                   'memories_p' || r, partitions, r);
  END LOOP;
END $$;

-- 3. Move the rows: every stored column (search_vector is generated again).
DO $$
DECLARE
  cols text;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
  FROM pg_attribute
  WHERE attrelid = 'aimemo.memories_unpartitioned'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
  EXECUTE format('INSERT INTO aimemo.memories (%s) SELECT %s FROM aimemo.memories_unpartitioned', cols, cols);
END $$;

-- 4. Drop the old table (this frees its index names; it fails, and nothing
--    changes, if a view or foreign key of yours depends on it), then build the
--    primary key, the indexes and the grants on the new one. An index created
--    on the parent is created on every partition, and on any added later.
DROP TABLE aimemo.memories_unpartitioned;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT ddl FROM aimemo_rebuild ORDER BY step LOOP
    EXECUTE r.ddl;
  END LOOP;
END $$;

COMMIT;

-- 5. Planner statistics for the parent and every partition (autovacuum never
--    analyzes a partitioned parent by itself; `aimemo optimize` runs this).
ANALYZE aimemo.memories;
