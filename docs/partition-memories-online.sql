-- Converts aimemo.memories into a table PARTITION BY HASH (namespace) while
-- the apps keep reading and writing, with one short lock at the end.
-- The result is the same as docs/partition-memories.sql gives; see
-- docs/scaling.md for when to prefer which.
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/partition-memories-online.sql
--
-- Run it as the owner of aimemo.memories, in psql's default autocommit mode
-- (not inside BEGIN: step 3 commits after every batch).
--
-- 1. An empty partitioned copy, aimemo.memories_new, with the same columns,
--    indexes and grants as aimemo.memories (index and constraint names get a
--    `_new` suffix until the swap).
-- 2. A trigger on aimemo.memories that repeats every insert, update and delete
--    on the copy, so nothing written from now on is missed.
-- 3. The rows that were there before, copied in batches of 10,000 in key
--    order, each batch its own transaction (a row the trigger has already
--    written wins over the older copy).
-- 4. The swap, in one short transaction holding an ACCESS EXCLUSIVE lock on
--    aimemo.memories: remove from the copy any row deleted while its batch was
--    being copied, drop the old table, rename the copy and its indexes.
--    Step 4 reads both tables' primary keys once: seconds per million rows.
--    If anything fails before it, `DROP TABLE aimemo.memories_new;
--    DROP FUNCTION aimemo.memories_mirror() CASCADE;` undoes everything.

\set partitions 8

-- 1. The empty partitioned copy.
BEGIN;
SET LOCAL lock_timeout = '10s';
DO $$
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = 'aimemo.memories'::regclass) = 'p' THEN
    RAISE EXCEPTION 'aimemo.memories is partitioned already';
  END IF;
  IF (SELECT relowner FROM pg_class WHERE oid = 'aimemo.memories'::regclass) <> (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run this as the owner of aimemo.memories: SET ROLE %;', (SELECT relowner::regrole FROM pg_class WHERE oid = 'aimemo.memories'::regclass);
  END IF;
END $$;
CREATE TABLE aimemo.memories_new (LIKE aimemo.memories INCLUDING ALL EXCLUDING INDEXES) PARTITION BY HASH (namespace);
SELECT format('CREATE TABLE aimemo.%I PARTITION OF aimemo.memories_new FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
              'memories_p' || r, :partitions, r)
FROM generate_series(0, :partitions - 1) AS r \gexec
-- The indexes, with names that do not clash yet: built now, on an empty table, they cost nothing.
SELECT format('ALTER TABLE aimemo.memories_new ADD CONSTRAINT %I %s', conname || '_new', pg_get_constraintdef(oid))
FROM pg_constraint WHERE conrelid = 'aimemo.memories'::regclass AND contype IN ('p', 'u') \gexec
SELECT regexp_replace(pg_get_indexdef(indexrelid), '^(CREATE (UNIQUE )?INDEX )(\S+) ON (\S+) ', '\1\3_new ON aimemo.memories_new ')
FROM pg_index WHERE indrelid = 'aimemo.memories'::regclass
  AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = 'aimemo.memories'::regclass) \gexec
SELECT format('GRANT %s ON aimemo.memories_new TO %s%s', a.privilege_type,
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'aimemo.memories'::regclass AND a.grantee <> c.relowner \gexec

-- 2. The mirror: every change to aimemo.memories is repeated on the copy, in the same transaction.
CREATE FUNCTION aimemo.memories_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cols text;
  updates text;
BEGIN
  IF TG_OP = 'DELETE' OR (OLD.namespace, OLD.id) IS DISTINCT FROM (NEW.namespace, NEW.id) THEN
    DELETE FROM aimemo.memories_new WHERE namespace = OLD.namespace AND id = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum), string_agg(format('%I = excluded.%I', attname, attname), ', ')
    INTO cols, updates
    FROM pg_attribute WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    -- An upsert, not an insert: step 3 may be writing the same row at this moment; this waits for it, then wins.
    EXECUTE format('INSERT INTO aimemo.memories_new (%s) SELECT %s FROM (SELECT ($1).*) r ON CONFLICT (namespace, id) DO UPDATE SET %s',
                   cols, cols, updates) USING NEW;
  END IF;
  RETURN NULL;
END $$;
-- Waits for the writes under way to finish (SHARE ROW EXCLUSIVE), then every later write is mirrored.
CREATE TRIGGER memories_mirror AFTER INSERT OR UPDATE OR DELETE ON aimemo.memories
  FOR EACH ROW EXECUTE FUNCTION aimemo.memories_mirror();
COMMIT;

-- 3. The rows written before the trigger, in batches, in primary-key order.
DO $$
DECLARE
  cols text;
  last_ns text := NULL;
  last_id text := NULL;
  n int;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
  FROM pg_attribute WHERE attrelid = 'aimemo.memories'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
  LOOP
    EXECUTE format(
      'WITH batch AS (SELECT %s FROM aimemo.memories WHERE $1 IS NULL OR (namespace, id) > ($1, $2) ORDER BY namespace, id LIMIT 10000),
            copied AS (INSERT INTO aimemo.memories_new (%s) SELECT %s FROM batch ON CONFLICT DO NOTHING)
       SELECT count(*)::int, (array_agg(namespace ORDER BY namespace DESC, id DESC))[1], (array_agg(id ORDER BY namespace DESC, id DESC))[1] FROM batch',
      cols, cols, cols)
    INTO n, last_ns, last_id USING last_ns, last_id;
    EXIT WHEN n = 0;
    COMMIT;
  END LOOP;
END $$;

-- 4. The swap.
BEGIN;
SET LOCAL lock_timeout = '10s';
LOCK TABLE aimemo.memories IN ACCESS EXCLUSIVE MODE;
-- A row deleted after its batch read it, but before the batch wrote it, came back on the copy.
DELETE FROM aimemo.memories_new n
WHERE NOT EXISTS (SELECT 1 FROM aimemo.memories o WHERE o.namespace = n.namespace AND o.id = n.id);
DO $$
BEGIN
  IF (SELECT count(*) FROM aimemo.memories) <> (SELECT count(*) FROM aimemo.memories_new) THEN
    RAISE EXCEPTION 'the copy has a different number of rows than aimemo.memories: nothing was changed';
  END IF;
END $$;
DROP TABLE aimemo.memories;
DROP FUNCTION aimemo.memories_mirror();
ALTER TABLE aimemo.memories_new RENAME TO memories;
SELECT format('ALTER TABLE aimemo.memories RENAME CONSTRAINT %I TO %I', conname, left(conname, -4))
FROM pg_constraint WHERE conrelid = 'aimemo.memories'::regclass AND contype IN ('p', 'u') AND conname LIKE '%\_new' \gexec
SELECT format('ALTER INDEX aimemo.%I RENAME TO %I', c.relname, left(c.relname, -4))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'aimemo.memories'::regclass AND c.relname LIKE '%\_new' \gexec
COMMIT;

ANALYZE aimemo.memories;
