-- Custom migration (drizzle-kit generate --custom --name search-index-triggers): keeps the search index of
-- 0004 (search_namespaces, search_terms, search_postings, search_log, search_pending) in step with
-- aimemo.memories. Hand-written: drizzle-kit cannot declare functions or triggers.
-- Statement-level triggers with transition tables index every written row inside the writing statement's
-- transaction, whoever writes it (this version, an older one still running, plain SQL), from the row's own
-- search_vector: a word's lexeme, its tf (positions), the memory's length (positions of all its lexemes, so
-- stop words are not counted), its time (ms) and save order.
-- Writers never lock a row another writer needs: postings belong to their own memory rows, and the changes
-- to the statistics are appended to search_log (df per word; '' for the namespace's count and length),
-- which search_fold() moves into search_terms and search_namespaces now and then, one folder at a time
-- (a transaction-level advisory lock, tried, never waited for). So concurrent writers of one namespace
-- neither wait on its statistics rows nor deadlock over them. Readers add search_log to the folded figures.
-- Rows already there are queued in search_pending; the store indexes a namespace's queued rows before it
-- searches it, and optimize() and `aimemo migrate` index all of them, in batches (readers never wait).
-- CREATE TRIGGER keeps writers (not readers) waiting until this migration commits: the time it takes to
-- queue every row (measured in the CHANGELOG).
CREATE FUNCTION "aimemo"."search_fold"() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('aimemo:search_fold')) THEN RETURN; END IF;
  WITH moved AS (DELETE FROM aimemo.search_log RETURNING ns, term, delta, dl_delta),
  agg AS (SELECT ns, term, sum(delta)::bigint AS delta, sum(dl_delta)::bigint AS dl FROM moved GROUP BY ns, term),
  totals AS (
    UPDATE aimemo.search_namespaces s SET n = s.n + a.delta, total_dl = s.total_dl + a.dl
    FROM agg a WHERE a.term = '' AND s.ns = a.ns RETURNING 1
  )
  INSERT INTO aimemo.search_terms AS t (ns, term, df)
  SELECT ns, term, delta FROM agg WHERE term <> '' AND delta <> 0 ORDER BY ns, term
  ON CONFLICT (ns, term) DO UPDATE SET df = t.df + excluded.df;
  DELETE FROM aimemo.search_terms WHERE df <= 0;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_change"(
  p_gone_namespaces text[], p_gone_ids text[], p_gone_vectors tsvector[], p_gone_ts bigint[], p_gone_seqs bigint[],
  p_fresh_namespaces text[], p_fresh_ids text[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  v_logged bigint;
BEGIN
  -- A namespace's first memory gives it an id (DO NOTHING never waits on an existing row).
  INSERT INTO aimemo.search_namespaces (namespace)
  SELECT DISTINCT k.namespace FROM unnest(p_fresh_namespaces) AS k(namespace) ORDER BY 1
  ON CONFLICT (namespace) DO NOTHING;

  WITH gone AS (SELECT * FROM unnest(p_gone_namespaces, p_gone_ids, p_gone_vectors, p_gone_ts, p_gone_seqs) AS g(namespace, id, v, ts, seq)),
  fresh AS (SELECT DISTINCT k.namespace, k.id FROM unnest(p_fresh_namespaces, p_fresh_ids) AS k(namespace, id)),
  -- A queued row was never indexed: it leaves the queue, and nothing of it leaves the index.
  unqueued AS (
    DELETE FROM aimemo.search_pending q
    WHERE (q.namespace, q.id) IN (SELECT namespace, id FROM gone UNION SELECT namespace, id FROM fresh)
    RETURNING q.namespace, q.id
  ),
  old AS (
    SELECT s.ns, g.id, g.v, g.ts, g.seq, (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(g.v) u)::integer AS dl
    FROM gone g JOIN aimemo.search_namespaces s ON s.namespace = g.namespace
    WHERE NOT EXISTS (SELECT 1 FROM unqueued w WHERE w.namespace = g.namespace AND w.id = g.id)
  ),
  new AS (
    SELECT s.ns, m.id, m.search_vector AS v, (extract(epoch FROM m."timestamp") * 1000)::bigint AS ts, coalesce(m.seq, 0) AS seq,
           (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(m.search_vector) u)::integer AS dl
    FROM fresh f JOIN aimemo.memories m ON m.namespace = f.namespace AND m.id = f.id JOIN aimemo.search_namespaces s ON s.namespace = f.namespace
  ),
  old_k AS (SELECT o.ns, u.lexeme COLLATE "C" AS term, coalesce(array_length(u.positions, 1), 1) AS tf, o.dl, o.ts, o.seq, o.id FROM old o, unnest(o.v) u),
  new_k AS (SELECT n.ns, u.lexeme COLLATE "C" AS term, coalesce(array_length(u.positions, 1), 1) AS tf, n.dl, n.ts, n.seq, n.id FROM new n, unnest(n.v) u),
  removed AS (
    DELETE FROM aimemo.search_postings x USING old_k k
    WHERE x.ns = k.ns AND x.term = k.term AND x.tf = k.tf AND x.dl = k.dl AND x.ts = k.ts AND x.seq = k.seq AND x.id = k.id
    RETURNING x.ns, x.term
  ),
  added AS (INSERT INTO aimemo.search_postings (ns, term, tf, dl, ts, seq, id) SELECT ns, term, tf, dl, ts, seq, id FROM new_k RETURNING ns, term),
  changes AS (
    SELECT ns, term, sum(d)::bigint AS delta, 0::bigint AS dl FROM (
      SELECT ns, term, -1 AS d FROM removed UNION ALL SELECT ns, term, 1 FROM added) c
    GROUP BY ns, term
    UNION ALL
    SELECT ns, '' COLLATE "C", sum(d)::bigint, sum(l)::bigint FROM (
      SELECT ns, -1 AS d, -dl AS l FROM old UNION ALL SELECT ns, 1, dl FROM new) c
    GROUP BY ns
  ),
  logged AS (INSERT INTO aimemo.search_log (ns, term, delta, dl_delta) SELECT ns, term, delta, dl FROM changes WHERE delta <> 0 OR dl <> 0 RETURNING 1)
  SELECT count(*) INTO v_logged FROM logged;

  -- Fold about once every 10,000 logged changes (every statement that logged more).
  IF v_logged > 0 AND random() < v_logged / 10000.0 THEN PERFORM aimemo.search_fold(); END IF;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_sync"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  g_namespaces text[]; g_ids text[]; g_vectors tsvector[]; g_ts bigint[]; g_seqs bigint[];
  f_namespaces text[]; f_ids text[];
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    -- An update that leaves the words, the time and the save order alone (tags, metadata) leaves the index alone.
    SELECT array_agg(o.namespace), array_agg(o.id), array_agg(o.search_vector), array_agg((extract(epoch FROM o."timestamp") * 1000)::bigint), array_agg(coalesce(o.seq, 0))
    INTO g_namespaces, g_ids, g_vectors, g_ts, g_seqs
    FROM old_rows o
    WHERE TG_OP = 'DELETE' OR NOT EXISTS (
      SELECT 1 FROM aimemo.memories n WHERE n.namespace = o.namespace AND n.id = o.id
        AND n.search_vector = o.search_vector AND n."timestamp" = o."timestamp" AND n.seq IS NOT DISTINCT FROM o.seq);
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.namespace), array_agg(n.id) INTO f_namespaces, f_ids FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN -- (old_rows exists only here: each statement is planned when first run)
    SELECT array_agg(n.namespace), array_agg(n.id) INTO f_namespaces, f_ids
    FROM new_rows n
    WHERE NOT EXISTS (
      SELECT 1 FROM old_rows o WHERE n.namespace = o.namespace AND n.id = o.id
        AND n.search_vector = o.search_vector AND n."timestamp" = o."timestamp" AND n.seq IS NOT DISTINCT FROM o.seq);
  END IF;
  IF g_ids IS NOT NULL OR f_ids IS NOT NULL THEN
    PERFORM aimemo.search_index_change(g_namespaces, g_ids, g_vectors, g_ts, g_seqs, f_namespaces, f_ids);
  END IF;
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION "aimemo"."search_index_truncate"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE aimemo.search_postings, aimemo.search_terms, aimemo.search_log, aimemo.search_pending;
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
  PERFORM aimemo.search_index_change(NULL, NULL, NULL, NULL, NULL, v_namespaces, v_ids);
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
