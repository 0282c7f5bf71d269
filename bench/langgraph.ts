/**
 * Side by side through LangGraph's `BaseStore` API (`npm run bench:relevance
 * -- --langgraph`): the LoCoMo protocol of bench/relevance.ts, every turn put
 * as an item `{ text: "<speaker>: <text>" }` under `['locomo', <conversation>]`
 * (in conversation order, in batches of 500 puts), every question asked with
 * `search(['locomo', <conversation>], { query, limit: 10 })`, on
 *
 * - AIMemoStore over SQLite (in memory) and over PostgreSQL (the server from
 *   AIMEMO_BENCH_PG_URL / AIMEMO_TEST_PG_URL in a scratch database, else PGlite),
 * - LangGraph's InMemoryStore (no embeddings: its search ignores the query),
 * - LangGraph's PostgresStore (@langchain/langgraph-checkpoint-postgres, the
 *   server only, in its own scratch database),
 *
 * beside AIMemo's direct API (`search(question, { mode: 'any', limit: 10 })`,
 * the numbers docs/search.md reports) for the same rows.
 *
 * `--langgraph-size 100k` (with `--queries Q`, default 50) is the latency
 * comparison at scale: the first conversation's namespace grown to that many
 * memories with the growth protocol (bench/locomo.ts `scaledMemories`), its
 * first Q questions, search p50/p95 and recall@10 per store. InMemoryStore is
 * left out there (it does not search text).
 */
import { InMemoryStore, type BaseStore, type PutOperation } from '@langchain/langgraph-checkpoint';
import { PostgresStore, SQLiteStore, type MemoryStore } from '../src';
import { AIMemoStore } from '../src/langgraph';
import { scaledMemories, type Conversation } from './locomo';
import { BENCH_PG_URL, withScratchDatabase } from './scratch-database';

/** One store's run: the ids found per question (best first), and how long each search took. */
export interface StoreRun {
  store: string;
  /** Per question: keys found, best first. */
  found: string[][];
  latencies: number[];
  errors: number;
  loadMs: number;
  note?: string;
}

interface Namespace {
  name: string;
  memories: { id: string; content: string }[];
  questions: { question: string; evidence: string[]; category: number }[];
}

/** The conversations as the namespaces a run stores (scaled, or as they are). */
export function plainNamespaces(conversations: Conversation[]): Namespace[] {
  return conversations.map((c) => ({
    name: c.name,
    memories: c.memories.map((m) => ({ id: m.id!, content: m.content })),
    questions: c.questions,
  }));
}

/** The first conversation grown to `size` memories (growth protocol), with its first `queries` questions. */
export function scaledNamespace(conversations: Conversation[], size: number, queries: number): Namespace {
  const [first] = conversations;
  const perCopy = conversations.slice(1).reduce((n, c) => n + c.memories.length, 0);
  const copies = Math.max(0, Math.ceil((size - first.memories.length) / Math.max(1, perCopy)));
  const memories = scaledMemories(first, conversations, copies).slice(0, size);
  return { name: first.name, memories: memories.map((m) => ({ id: m.id!, content: m.content })), questions: first.questions.slice(0, queries) };
}

const PUTS_PER_BATCH = 500;

/** Puts every memory as an item, in order, then asks every question; never throws (errors are counted). */
async function runStore(label: string, store: BaseStore, namespaces: Namespace[], note?: string): Promise<StoreRun> {
  const run: StoreRun = { store: label, found: [], latencies: [], errors: 0, loadMs: 0, note };
  const started = performance.now();
  for (const ns of namespaces) {
    for (let i = 0; i < ns.memories.length; i += PUTS_PER_BATCH) {
      const ops: PutOperation[] = ns.memories.slice(i, i + PUTS_PER_BATCH).map((m) => ({ namespace: ['locomo', ns.name], key: m.id, value: { text: m.content } }));
      await store.batch(ops);
    }
  }
  run.loadMs = performance.now() - started;
  for (const ns of namespaces) {
    for (const q of ns.questions) {
      const t = performance.now();
      try {
        run.found.push((await store.search(['locomo', ns.name], { query: q.question, limit: 10 })).map((item) => item.key));
      } catch (error) {
        run.found.push([]);
        run.errors += 1;
        if (run.errors <= 3) console.error(`${label}: "${q.question}" failed:`, (error as Error).message);
      }
      run.latencies.push(performance.now() - t);
    }
  }
  return run;
}

/** AIMemo's own API on the same rows, for the "within 0.01 of the direct API" comparison. */
async function runDirect(label: string, store: MemoryStore, namespaces: Namespace[]): Promise<StoreRun> {
  const run: StoreRun = { store: label, found: [], latencies: [], errors: 0, loadMs: 0 };
  const started = performance.now();
  for (const ns of namespaces) {
    for (let i = 0; i < ns.memories.length; i += 5000) {
      await store.saveMany(ns.memories.slice(i, i + 5000).map((m) => ({ id: m.id, content: m.content, namespace: `locomo-${ns.name}` })));
    }
  }
  run.loadMs = performance.now() - started;
  for (const ns of namespaces) {
    for (const q of ns.questions) {
      const t = performance.now();
      run.found.push((await store.search(q.question, { namespace: `locomo-${ns.name}`, mode: 'any', limit: 10 })).map((m) => m.id));
      run.latencies.push(performance.now() - t);
    }
  }
  return run;
}

/** LangGraph's PostgresStore on a scratch database of the server (its own tables in schema public). */
async function runLangGraphPostgres(namespaces: Namespace[]): Promise<StoreRun | undefined> {
  if (!BENCH_PG_URL) return undefined;
  const { PostgresStore: LangGraphPostgresStore } = await import('@langchain/langgraph-checkpoint-postgres/store');
  return withScratchDatabase(BENCH_PG_URL, 'langgraph_pg', async (url) => {
    const store = LangGraphPostgresStore.fromConnString(url);
    // pg's Pool emits 'error' when the server ends an idle connection (a restart, pg_terminate_backend by a test
    // next door); without a listener that is an uncaught exception. The store does not expose its pool: reach in.
    (store as unknown as { core: { pool: { on(event: 'error', fn: (e: Error) => void): void } } }).core.pool.on('error', (e) => console.error(`LangGraph PostgresStore pool: ${e.message}`));
    await store.setup();
    try {
      return await runStore('LangGraph PostgresStore', store, namespaces, 'plainto_tsquery over to_tsvector(value::text) per row, no index');
    } finally {
      await store.stop();
    }
  });
}

/**
 * Every store, one after the other (never two at once: the timings are each
 * store's alone). `withInMemory`: LangGraph's InMemoryStore too.
 */
export async function runLangGraphComparison(namespaces: Namespace[], withInMemory: boolean): Promise<StoreRun[]> {
  const runs: StoreRun[] = [];
  const sqlite = new SQLiteStore(':memory:');
  runs.push(await runDirect('AIMemo direct API (SQLite)', sqlite, namespaces));
  await sqlite.close();
  const sqlite2 = new SQLiteStore(':memory:');
  runs.push(await runStore('AIMemoStore (SQLite)', new AIMemoStore(sqlite2), namespaces));
  await sqlite2.close();

  const onPostgres = async (label: string, fn: (store: PostgresStore) => Promise<StoreRun>): Promise<StoreRun> => {
    if (BENCH_PG_URL) {
      return withScratchDatabase(BENCH_PG_URL, `langgraph_${label}`, async (url) => {
        const pg = new PostgresStore(url);
        try {
          return await fn(pg);
        } finally {
          await pg.close();
        }
      });
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
    const pglite = new PGlite({ extensions: { btree_gin } });
    const pg = new PostgresStore(pglite);
    try {
      return await fn(pg);
    } finally {
      await pg.close();
      await pglite.close();
    }
  };
  const pgName = BENCH_PG_URL ? 'PostgreSQL' : 'PGlite';
  runs.push(await onPostgres('direct', (pg) => runDirect(`AIMemo direct API (${pgName})`, pg, namespaces)));
  runs.push(await onPostgres('store', (pg) => runStore(`AIMemoStore (${pgName})`, new AIMemoStore(pg), namespaces)));

  if (withInMemory) runs.push(await runStore('LangGraph InMemoryStore', new InMemoryStore(), namespaces, 'no embeddings configured: search ignores the query'));
  const lgPg = await runLangGraphPostgres(namespaces);
  if (lgPg) runs.push(lgPg);
  else console.log('LangGraph PostgresStore skipped: it needs a PostgreSQL server (AIMEMO_BENCH_PG_URL or AIMEMO_TEST_PG_URL)\n');
  return runs;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** The markdown table: recall@10, recall@5, hit@10, MRR, search p50/p95, load time, per store. */
export function langGraphReport(runs: StoreRun[], namespaces: Namespace[]): string {
  const questions = namespaces.flatMap((ns) => ns.questions);
  const memories = namespaces.reduce((n, ns) => n + ns.memories.length, 0);
  const lines = [
    `${namespaces.length} namespace(s), ${memories} memories (${Math.round(memories / namespaces.length)} per namespace), ${questions.length} questions, through the BaseStore API unless it says "direct"`,
    '',
    '| store | recall@10 | recall@5 | hit@10 | MRR | search p50 / p95 | load | errors | note |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const run of runs) {
    let r10 = 0;
    let r5 = 0;
    let hit = 0;
    let mrr = 0;
    questions.forEach((q, i) => {
      const ids = run.found[i] ?? [];
      const relevant = new Set(q.evidence);
      const found = (k: number) => ids.slice(0, k).filter((id) => relevant.has(id)).length;
      const first = ids.findIndex((id) => relevant.has(id));
      r10 += found(10) / relevant.size;
      r5 += found(5) / relevant.size;
      hit += found(10) > 0 ? 1 : 0;
      mrr += first >= 0 ? 1 / (first + 1) : 0;
    });
    const n = questions.length;
    const sorted = [...run.latencies].sort((a, b) => a - b);
    const f3 = (x: number) => (x / n).toFixed(3);
    lines.push(
      `| ${run.store} | ${f3(r10)} | ${f3(r5)} | ${f3(hit)} | ${f3(mrr)} | ${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.95).toFixed(2)} ms | ${(run.loadMs / 1000).toFixed(1)} s | ${run.errors} | ${run.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}
