/**
 * Relevance benchmark: `npm run bench:relevance [-- path]`.
 *
 * Loads LoCoMo-format conversations (the path given, else $AIMEMO_LOCOMO,
 * bench/.data/locomo or ../shared/data/locomo; how to get LoCoMo: docs/search.md), stores
 * them through the public API on every backend (SQLite; PostgreSQL from
 * AIMEMO_BENCH_PG_URL or AIMEMO_TEST_PG_URL in a fresh database; PGlite when no
 * server is configured), asks every question with
 * `search(question, { mode: 'any', limit: 10 })` and prints recall@5,
 * recall@10, hit@10 and MRR per backend, overall and per category, with the
 * query latency, as a markdown table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PostgresStore, SQLiteStore, type MemoryStore } from '../src';
import { loadConversations, type Conversation } from './locomo';
import { BENCH_PG_URL, withScratchDatabase } from './scratch-database';

const CATEGORY = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' } as Record<number, string>;

interface Scores {
  n: number;
  recall5: number;
  recall10: number;
  hit10: number;
  mrr: number;
}

interface Run {
  backend: string;
  overall: Scores;
  byCategory: Map<number, Scores>;
  errors: number;
  latencies: number[];
}

const empty = (): Scores => ({ n: 0, recall5: 0, recall10: 0, hit10: 0, mrr: 0 });

function add(into: Scores, ids: string[], evidence: string[]): void {
  const relevant = new Set(evidence);
  const found = (k: number) => ids.slice(0, k).filter((id) => relevant.has(id)).length;
  const first = ids.findIndex((id) => relevant.has(id));
  into.n += 1;
  into.recall5 += found(5) / relevant.size;
  into.recall10 += found(10) / relevant.size;
  into.hit10 += found(10) > 0 ? 1 : 0;
  into.mrr += first >= 0 ? 1 / (first + 1) : 0;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function evaluate(backend: string, store: MemoryStore, conversations: Conversation[]): Promise<Run> {
  const run: Run = { backend, overall: empty(), byCategory: new Map(), errors: 0, latencies: [] };
  for (const conv of conversations) {
    await store.saveMany(conv.memories.map((m) => ({ ...m, namespace: `locomo-${conv.name}` })));
  }
  for (const conv of conversations) {
    for (const q of conv.questions) {
      let ids: string[] = [];
      const started = process.hrtime.bigint();
      try {
        ids = (await store.search(q.question, { namespace: `locomo-${conv.name}`, mode: 'any', limit: 10 })).map((r) => r.id);
      } catch (error) {
        run.errors += 1;
        if (run.errors <= 3) console.error(`${backend}: "${q.question}" failed:`, (error as Error).message);
      }
      run.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      add(run.overall, ids, q.evidence);
      if (!run.byCategory.has(q.category)) run.byCategory.set(q.category, empty());
      add(run.byCategory.get(q.category)!, ids, q.evidence);
    }
  }
  return run;
}

const f3 = (x: number) => x.toFixed(3);
const row = (label: string, s: Scores, extra: string) =>
  `| ${label} | ${s.n} | ${f3(s.recall5 / s.n)} | ${f3(s.recall10 / s.n)} | ${f3(s.hit10 / s.n)} | ${f3(s.mrr / s.n)} | ${extra} |`;

function report(runs: Run[]): string {
  const lines = [
    '| backend | questions | recall@5 | recall@10 | hit@10 | MRR | errors, query p50 / p95 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of runs) {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    lines.push(row(`**${r.backend}**`, r.overall, `${r.errors}, ${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.95).toFixed(2)} ms`));
    for (const [cat, s] of [...r.byCategory].sort((a, b) => a[0] - b[0])) lines.push(row(`${r.backend}: ${cat} ${CATEGORY[cat] ?? ''}`, s, ''));
  }
  return lines.join('\n');
}

/** Where the LoCoMo conversations are looked for, in order, when no path is given. */
const LOCOMO_DEFAULTS = [process.env.AIMEMO_LOCOMO, path.join(__dirname, '.data', 'locomo'), path.join(__dirname, '..', '..', 'shared', 'data', 'locomo')];

const locomoMissing = (looked: string[]) => `no LoCoMo data found (looked at ${looked.join(', ')}).
LoCoMo is the public benchmark of the ACL 2024 paper "Evaluating Very Long-Term Conversational Memory of LLM Agents"
(github.com/snap-research/locomo; no license file there: research data, cite the paper; it is not shipped with aimemo). Get it with:
  git clone --depth 1 https://github.com/snap-research/locomo /tmp/locomo
  mkdir -p bench/.data/locomo && unzip -j -q /tmp/locomo/data/locomo10.zip '*.json' -d bench/.data/locomo
then run npm run bench:relevance again, or pass a folder or file: npm run bench:relevance -- <path>. See docs/search.md, "Relevance benchmark".`;

/** Where to look: the path given, else the defaults. */
const locomoCandidates = (given: string | undefined): string[] => (given ? [given] : LOCOMO_DEFAULTS).filter((c): c is string => !!c).map((c) => path.resolve(c));

async function main(): Promise<void> {
  const candidates = locomoCandidates(process.argv[2]);
  const target = candidates.find((c) => fs.existsSync(c));
  if (!target) {
    console.error(locomoMissing(candidates));
    process.exit(2);
  }
  const conversations = loadConversations(target);
  const questions = conversations.reduce((n, c) => n + c.questions.length, 0);
  console.log(`${conversations.length} conversations, ${conversations.reduce((n, c) => n + c.memories.length, 0)} memories, ${questions} questions (categories 1-4) from ${target}\n`);

  const runs: Run[] = [];
  const sqlite = new SQLiteStore(':memory:');
  runs.push(await evaluate('SQLite', sqlite, conversations));
  await sqlite.close();

  if (BENCH_PG_URL) {
    await withScratchDatabase(BENCH_PG_URL, 'relevance', async (url) => {
      const pg = new PostgresStore(url);
      runs.push(await evaluate('PostgreSQL', pg, conversations));
      await pg.close();
    });
  } else {
    console.log('no PostgreSQL server configured (AIMEMO_BENCH_PG_URL): PostgreSQL runs on PGlite\n');
    const { PGlite } = await import('@electric-sql/pglite');
    const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
    const pglite = new PGlite({ extensions: { btree_gin } });
    const pg = new PostgresStore(pglite);
    runs.push(await evaluate('PostgreSQL (PGlite)', pg, conversations));
    await pg.close();
    await pglite.close();
  }
  console.log(report(runs));
  if (runs.some((r) => r.errors > 0)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
