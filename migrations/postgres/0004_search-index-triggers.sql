-- Custom migration (drizzle-kit generate --custom --name search-index-triggers): keeps the search index of
-- 0003 (search_namespaces, search_terms, search_postings, search_pending) in step with aimemo.memories.
-- Hand-written: drizzle-kit cannot declare functions or triggers.
-- Statement-level triggers with transition tables index every written row inside the writing statement's
-- transaction, whoever writes it (this version, an older one still running, plain SQL), from the row's own
-- search_vector: a word's lexeme, its tf (positions), the memory's length (positions of all its lexemes, so
-- stop words are not counted), its time (ms) and save order. Rows and index rows are locked in key order
-- (ORDER BY in each upsert), so concurrent writers never deadlock on them.
-- Rows already there are queued in search_pending; the store indexes a namespace's queued rows before it
-- searches it, and optimize() and `aimemo migrate` index all of them, in batches (readers never wait).
CREATE FUNCTION "aimemo"."search_index_add"(p_namespaces text[], p_ids text[]) RETURNS void LANGUAGE sql AS $fn$
  WITH keys AS (SELECT DISTINCT k.namespace, k.id FROM unnest(p_namespaces, p_ids) AS k(namespace, id)),
  unqueued AS (DELETE FROM aimemo.search_pending q USING keys k WHERE q.namespace = k.namespace AND q.id = k.id RETURNING 1),
  d AS (
    SELECT m.namespace, m.id, m.search_vector AS v, (extract(epoch FROM m."timestamp") * 1000)::bigint AS ts, coalesce(m.seq, 0) AS seq,
           (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(m.search_vector) u)::integer AS dl
    FROM keys k JOIN aimemo.memories m ON m.namespace = k.namespace AND m.id = k.id
  ),
  s AS (
    INSERT INTO aimemo.search_namespaces AS s (namespace, n, total_dl)
    SELECT d.namespace, count(*), sum(d.dl) FROM d GROUP BY d.namespace ORDER BY d.namespace
    ON CONFLICT (namespace) DO UPDATE SET n = s.n + excluded.n, total_dl = s.total_dl + excluded.total_dl
    RETURNING s.ns, s.namespace
  ),
  k AS (
    SELECT s.ns, u.lexeme COLLATE "C" AS term, coalesce(array_length(u.positions, 1), 1) AS tf, d.dl, d.ts, d.seq, d.id
    FROM d JOIN s ON s.namespace = d.namespace, unnest(d.v) u
  ),
  p AS (INSERT INTO aimemo.search_postings (ns, term, tf, dl, ts, seq, id) SELECT k.ns, k.term, k.tf, k.dl, k.ts, k.seq, k.id FROM k RETURNING 1)
  INSERT INTO aimemo.search_terms AS t (ns, term, df)
  SELECT k.ns, k.term, count(*) FROM k GROUP BY k.ns, k.term ORDER BY k.ns, k.term
  ON CONFLICT (ns, term) DO UPDATE SET df = t.df + excluded.df;
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_remove"(p_namespaces text[], p_ids text[], p_vectors tsvector[], p_ts bigint[], p_seqs bigint[]) RETURNS void LANGUAGE sql AS $fn$
  WITH gone AS (SELECT * FROM unnest(p_namespaces, p_ids, p_vectors, p_ts, p_seqs) AS g(namespace, id, v, ts, seq)),
  was_queued AS (DELETE FROM aimemo.search_pending q USING gone g WHERE q.namespace = g.namespace AND q.id = g.id RETURNING q.namespace, q.id),
  d AS (
    SELECT s.ns, g.namespace, g.id, g.v, g.ts, g.seq,
           (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(g.v) u)::integer AS dl
    FROM gone g JOIN aimemo.search_namespaces s ON s.namespace = g.namespace
    WHERE NOT EXISTS (SELECT 1 FROM was_queued w WHERE w.namespace = g.namespace AND w.id = g.id)
  ),
  sz AS (
    INSERT INTO aimemo.search_namespaces AS s (namespace, n, total_dl)
    SELECT d.namespace, -count(*), -sum(d.dl) FROM d GROUP BY d.namespace ORDER BY d.namespace
    ON CONFLICT (namespace) DO UPDATE SET n = s.n + excluded.n, total_dl = s.total_dl + excluded.total_dl
    RETURNING 1
  ),
  k AS (SELECT d.ns, u.lexeme COLLATE "C" AS term, coalesce(array_length(u.positions, 1), 1) AS tf, d.dl, d.ts, d.seq, d.id FROM d, unnest(d.v) u),
  p AS (
    DELETE FROM aimemo.search_postings x USING k
    WHERE x.ns = k.ns AND x.term = k.term AND x.tf = k.tf AND x.dl = k.dl AND x.ts = k.ts AND x.seq = k.seq AND x.id = k.id
    RETURNING x.ns, x.term
  )
  INSERT INTO aimemo.search_terms AS t (ns, term, df)
  SELECT p.ns, p.term, -count(*) FROM p GROUP BY p.ns, p.term ORDER BY p.ns, p.term
  ON CONFLICT (ns, term) DO UPDATE SET df = t.df + excluded.df;
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_sync"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM aimemo.search_index_add(array_agg(n.namespace), array_agg(n.id)) FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM aimemo.search_index_remove(array_agg(o.namespace), array_agg(o.id), array_agg(o.search_vector),
                                       array_agg((extract(epoch FROM o."timestamp") * 1000)::bigint), array_agg(coalesce(o.seq, 0)))
    FROM old_rows o;
  ELSE
    -- An update that leaves the words, the time and the save order alone (tags, metadata) leaves the index alone.
    PERFORM aimemo.search_index_remove(array_agg(o.namespace), array_agg(o.id), array_agg(o.search_vector),
                                       array_agg((extract(epoch FROM o."timestamp") * 1000)::bigint), array_agg(coalesce(o.seq, 0)))
    FROM old_rows o
    WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.namespace = o.namespace AND n.id = o.id AND n.search_vector = o.search_vector
                      AND n."timestamp" = o."timestamp" AND n.seq IS NOT DISTINCT FROM o.seq);
    PERFORM aimemo.search_index_add(array_agg(n.namespace), array_agg(n.id))
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE n.namespace = o.namespace AND n.id = o.id AND n.search_vector = o.search_vector
                      AND n."timestamp" = o."timestamp" AND n.seq IS NOT DISTINCT FROM o.seq);
  END IF;
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_truncate"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE aimemo.search_postings, aimemo.search_terms, aimemo.search_pending;
  UPDATE aimemo.search_namespaces SET n = 0, total_dl = 0;
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_backfill"(p_namespace text, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  v_namespaces text[];
  v_ids text[];
BEGIN
  SELECT array_agg(q.namespace), array_agg(q.id) INTO v_namespaces, v_ids FROM (
    SELECT p.namespace, p.id FROM aimemo.search_pending p
    WHERE p_namespace IS NULL OR p.namespace = p_namespace
    ORDER BY p.namespace, p.id LIMIT p_limit FOR UPDATE SKIP LOCKED) q;
  IF v_ids IS NULL THEN RETURN 0; END IF;
  PERFORM aimemo.search_index_add(v_namespaces, v_ids);
  RETURN cardinality(v_ids);
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER "search_index_insert" AFTER INSERT ON "aimemo"."memories" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "aimemo"."search_index_sync"();
--> statement-breakpoint
CREATE TRIGGER "search_index_update" AFTER UPDATE ON "aimemo"."memories" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "aimemo"."search_index_sync"();
--> statement-breakpoint
CREATE TRIGGER "search_index_delete" AFTER DELETE ON "aimemo"."memories" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "aimemo"."search_index_sync"();
--> statement-breakpoint
CREATE TRIGGER "search_index_truncate" AFTER TRUNCATE ON "aimemo"."memories" FOR EACH STATEMENT EXECUTE FUNCTION "aimemo"."search_index_truncate"();
--> statement-breakpoint
INSERT INTO "aimemo"."search_pending" ("namespace", "id") SELECT "namespace", "id" FROM "aimemo"."memories";
