/**
 * Relevance benchmark: `npm run bench:relevance [-- [--scale 0,3,10] [path]]`.
 *
 * Loads LoCoMo-format conversations (the path given, else $AIMEMO_LOCOMO,
 * bench/.data/locomo or ../shared/data/locomo; how to get LoCoMo: docs/search.md), stores
 * them through the public API on every backend (SQLite; PostgreSQL from
 * AIMEMO_BENCH_PG_URL or AIMEMO_TEST_PG_URL in a fresh database; PGlite when no
 * server is configured), asks every question with
 * `search(question, { mode: 'any', limit: 10 })` and prints recall@5,
 * recall@10, hit@10 and MRR per backend, overall and per category, with the
 * query latency, as a markdown table.
 *
 * `--scale R` (a list, e.g. `0,3,10`) runs the growth protocol of issue 10:
 * each conversation's namespace also holds R copies of the other
 * conversations' turns, speakers renamed to its own two, timestamps after it
 * (bench/locomo.ts `scaledMemories`), so the asked-about memories are old and
 * the namespace is large. For each R it prints the library's recall@10 next to
 * exact BM25 on the same rows: SQLite FTS5 `ORDER BY rank` over every match of
 * the OR of the question's words (stop words out), one FTS5 table per
 * namespace so FTS5's statistics are the namespace's.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PostgresStore, SQLiteStore, type MemoryStore, type NewMemory } from '../src';
import { parseQuery, positiveWords } from '../src/search/query';
import { loadConversations, scaledMemories, type Conversation } from './locomo';
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

/** Every conversation's namespace at scale R. */
type Corpus = { conv: Conversation; memories: NewMemory[] }[];

const corpus = (conversations: Conversation[], scale: number): Corpus => conversations.map((conv) => ({ conv, memories: scaledMemories(conv, conversations, scale) }));

/** Asks every question; `ask` returns the ids found, best first. */
async function ask(backend: string, data: Corpus, search: (ns: string, question: string) => Promise<string[]>): Promise<Run> {
  const run: Run = { backend, overall: empty(), byCategory: new Map(), errors: 0, latencies: [] };
  for (const { conv } of data) {
    for (const q of conv.questions) {
      let ids: string[] = [];
      const started = process.hrtime.bigint();
      try {
        ids = await search(`locomo-${conv.name}`, q.question);
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

async function evaluate(backend: string, store: MemoryStore, data: Corpus): Promise<Run> {
  for (const { conv, memories } of data) {
    for (let i = 0; i < memories.length; i += 5000) {
      await store.saveMany(memories.slice(i, i + 5000).map((m) => ({ ...m, namespace: `locomo-${conv.name}` })));
    }
  }
  return ask(backend, data, async (namespace, question) => (await store.search(question, { namespace, mode: 'any', limit: 10 })).map((r) => r.id));
}

/**
 * Exact BM25 as plain full-text search gives it: one FTS5 table per
 * namespace (porter, unicode61, diacritics kept: the library's tokenizer),
 * the question's words (stop words out) joined by OR, every match ranked by
 * FTS5's bm25() (`ORDER BY rank`).
 */
async function exactBm25(data: Corpus): Promise<Run> {
  const db = new Database(':memory:');
  const tables = new Map<string, string>();
  data.forEach(({ conv, memories }, i) => {
    const table = `ns${i}`;
    tables.set(`locomo-${conv.name}`, table);
    db.exec(`CREATE VIRTUAL TABLE ${table} USING fts5(id UNINDEXED, content, tokenize='porter unicode61 remove_diacritics 0')`);
    const insert = db.prepare(`INSERT INTO ${table} (id, content) VALUES (?, ?)`);
    db.transaction(() => memories.forEach((m) => insert.run(m.id, m.content)))();
  });
  try {
    return await ask('exact BM25 (FTS5)', data, async (namespace, question) => {
      const tree = parseQuery(question, 'any');
      if (!tree) return [];
      const match = [...new Set(positiveWords(tree).map((w) => w.word))].map((w) => `"${w}"`).join(' OR ');
      const rows = db.prepare(`SELECT id FROM ${tables.get(namespace)} WHERE ${tables.get(namespace)} MATCH ? ORDER BY rank LIMIT 10`).all(match) as { id: string }[];
      return rows.map((r) => r.id);
    });
  } finally {
    db.close();
  }
}

const f3 = (x: number) => x.toFixed(3);
const row = (label: string, s: Scores, extra: string) =>
  `| ${label} | ${s.n} | ${f3(s.recall5 / s.n)} | ${f3(s.recall10 / s.n)} | ${f3(s.hit10 / s.n)} | ${f3(s.mrr / s.n)} | ${extra} |`;
const latency = (r: Run) => {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return `${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.95).toFixed(2)} ms`;
};

function report(runs: Run[]): string {
  const lines = [
    '| backend | questions | recall@5 | recall@10 | hit@10 | MRR | errors, query p50 / p95 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of runs) {
    lines.push(row(`**${r.backend}**`, r.overall, `${r.errors}, ${latency(r)}`));
    for (const [cat, s] of [...r.byCategory].sort((a, b) => a[0] - b[0])) lines.push(row(`${r.backend}: ${cat} ${CATEGORY[cat] ?? ''}`, s, ''));
  }
  return lines.join('\n');
}

/** Every backend: SQLite in memory, then PostgreSQL (the server, or PGlite). */
async function backends(data: Corpus): Promise<Run[]> {
  const runs: Run[] = [];
  const sqlite = new SQLiteStore(':memory:');
  runs.push(await evaluate('SQLite', sqlite, data));
  await sqlite.close();
  if (BENCH_PG_URL) {
    await withScratchDatabase(BENCH_PG_URL, 'relevance', async (url) => {
      const pg = new PostgresStore(url);
      runs.push(await evaluate('PostgreSQL', pg, data));
      await pg.close();
    });
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
    const pglite = new PGlite({ extensions: { btree_gin } });
    const pg = new PostgresStore(pglite);
    runs.push(await evaluate('PostgreSQL (PGlite)', pg, data));
    await pg.close();
    await pglite.close();
  }
  return runs;
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

function parseArgs(argv: string[]): { target: string | undefined; scales: number[] | undefined } {
  let target: string | undefined;
  let scales: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--scale') {
      scales = (argv[++i] ?? '').split(',').map(Number);
      if (scales.length === 0 || scales.some((r) => !Number.isInteger(r) || r < 0)) {
        console.error('--scale takes whole numbers ≥ 0, comma-separated: --scale 0,3,10');
        process.exit(2);
      }
    } else target = argv[i];
  }
  return { target, scales };
}

async function main(): Promise<void> {
  const { target: given, scales } = parseArgs(process.argv.slice(2));
  const candidates = locomoCandidates(given);
  const target = candidates.find((c) => fs.existsSync(c));
  if (!target) {
    console.error(locomoMissing(candidates));
    process.exit(2);
  }
  const conversations = loadConversations(target);
  const questions = conversations.reduce((n, c) => n + c.questions.length, 0);
  console.log(`${conversations.length} conversations, ${conversations.reduce((n, c) => n + c.memories.length, 0)} memories, ${questions} questions (categories 1-4) from ${target}\n`);
  if (!BENCH_PG_URL) console.log('no PostgreSQL server configured (AIMEMO_BENCH_PG_URL): PostgreSQL runs on PGlite\n');

  let failed = false;
  if (!scales) {
    const runs = await backends(corpus(conversations, 0));
    console.log(report(runs));
    failed = runs.some((r) => r.errors > 0);
  } else {
    const lines = [
      '| R | memories per namespace | backend | library recall@10 | exact BM25 recall@10 | library − BM25 | library p50 / p95 |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    ];
    for (const scale of scales) {
      const data = corpus(conversations, scale);
      const perNamespace = Math.round(data.reduce((n, d) => n + d.memories.length, 0) / data.length);
      const bm25 = await exactBm25(data);
      const runs = await backends(data);
      for (const r of runs) {
        const lib = r.overall.recall10 / r.overall.n;
        const base = bm25.overall.recall10 / bm25.overall.n;
        lines.push(`| ${scale} | ${perNamespace} | ${r.backend} | ${f3(lib)} | ${f3(base)} | ${lib >= base ? '+' : ''}${f3(lib - base)} | ${latency(r)} |`);
        failed ||= r.errors > 0;
      }
      console.log(`R = ${scale} done`);
    }
    console.log(`\n${lines.join('\n')}`);
  }
  if (failed) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
