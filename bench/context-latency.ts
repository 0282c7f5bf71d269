/**
 * getContext latency at a given size: `npm run bench:context [-- 10000 100000]`.
 *
 * Generates N memories in one namespace (seeded; a Zipf-distributed vocabulary
 * of 5,000 words, 8-24 words each, saved as a conversation: one minute apart),
 * runs optimize({ vacuum: true }) as a maintained store would have, then times
 * 300 natural-language questions through AIMemo.getContext on SQLite
 * (a temp file) and PostgreSQL (AIMEMO_BENCH_PG_URL / AIMEMO_TEST_PG_URL, a fresh
 * database; PGlite when none is set). Prints p50 / p95 per backend and size.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AIMemo, PostgresStore, SQLiteStore, type MemoryStore, type NewMemory } from '../src';
import { BENCH_PG_URL, withScratchDatabase } from './scratch-database';

/** mulberry32: a small seeded PRNG, so every run generates the same data. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vel', 'do', 'pri', 'ne', 'ost', 'gar', 'li', 'mun', 'tes', 'ba'];
const random = rng(42);
const VOCAB = Array.from({ length: 5000 }, (_, i) => {
  let w = '';
  for (let n = i + 7; w.length < 4 || n > 0; n = Math.floor(n / SYLLABLES.length)) w += SYLLABLES[n % SYLLABLES.length];
  return w;
});
// Zipf(1): word i has weight 1/(i+1); sample by inverting the cumulative weights.
const CUMULATIVE = VOCAB.map((_, i) => 1 / (i + 1)).map(((sum) => (w: number) => (sum += w))(0));
const TOTAL = CUMULATIVE[CUMULATIVE.length - 1];
function word(): string {
  const x = random() * TOTAL;
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCAB[lo];
}
const sentence = (min: number, max: number) => Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, word).join(' ');

function memories(n: number): NewMemory[] {
  const start = Date.UTC(2025, 0, 1);
  return Array.from({ length: n }, (_, i) => ({ content: `${i % 2 ? 'Sam' : 'Alex'}: ${sentence(8, 24)}`, timestamp: new Date(start + i * 60_000) }));
}

/** Questions name a speaker (held by half the memories) and 2-5 content words of any frequency. */
const topic = () => Array.from({ length: 2 + Math.floor(random() * 4) }, () => VOCAB[Math.floor(random() * VOCAB.length)]).join(' ');
const questions = Array.from({ length: 300 }, () => `What did Alex say about the ${topic()}?`);

async function time(store: MemoryStore, n: number): Promise<{ p50: number; p95: number }> {
  const all = memories(n);
  for (let i = 0; i < all.length; i += 5000) await store.saveMany(all.slice(i, i + 5000).map((m) => ({ ...m, namespace: 'bench' })));
  // A store in steady state: after a bulk load, PostgreSQL's GIN pending list and statistics
  // wait for autovacuum; run the maintenance an app would schedule (optimize()).
  await (store as SQLiteStore | PostgresStore).optimize({ vacuum: true });
  const memo = new AIMemo({ store, namespace: 'bench' });
  for (const q of questions.slice(0, 20)) await memo.getContext(q); // warm up
  const ms: number[] = [];
  for (const q of questions) {
    const t = process.hrtime.bigint();
    await memo.getContext(q);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)], p95: ms[Math.floor(ms.length * 0.95)] };
}

/** AIMEMO_BENCH_KEEP=<url>: only load N memories into that database (for EXPLAIN sessions) and exit. */
async function main(): Promise<void> {
  if (process.env.AIMEMO_BENCH_KEEP) {
    const store = new PostgresStore(process.env.AIMEMO_BENCH_KEEP);
    const all = memories(Number(process.argv[2] ?? 10_000));
    for (let i = 0; i < all.length; i += 5000) await store.saveMany(all.slice(i, i + 5000).map((m) => ({ ...m, namespace: 'bench' })));
    await store.close();
    console.log(questions.slice(0, 3).join('\n'));
    return;
  }
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const server = BENCH_PG_URL;
  console.log('| backend | memories | getContext p50 | p95 |\n| --- | --- | --- | --- |');
  for (const n of sizes.length ? sizes : [10_000, 100_000]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-bench-'));
    const sqlite = new SQLiteStore(path.join(dir, 'bench.db'));
    const s = await time(sqlite, n);
    console.log(`| SQLite | ${n} | ${s.p50.toFixed(2)} ms | ${s.p95.toFixed(2)} ms |`);
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });

    if (server) {
      await withScratchDatabase(server, 'context', async (url) => {
        const pg = new PostgresStore(url);
        const r = await time(pg, n);
        console.log(`| PostgreSQL | ${n} | ${r.p50.toFixed(2)} ms | ${r.p95.toFixed(2)} ms |`);
        await pg.close();
      });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
