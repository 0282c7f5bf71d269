/**
 * What a search across a namespace prefix costs (`npm run bench:prefix --
 * [--namespaces 1,10,100] [--per 1000] [--queries 50]`): for each count N,
 * N namespaces under one prefix hold `per` memories each (LoCoMo turns when
 * found, else generated sentences), and `queries` questions are asked with
 * `search(q, { namespacePrefix, mode: 'any', limit: 10 })`, beside the same
 * questions in one of the namespaces alone (`namespace`). Also `list` and
 * `getAllNamespaces` under the prefix. SQLite in memory, and PostgreSQL
 * (AIMEMO_BENCH_PG_URL / AIMEMO_TEST_PG_URL scratch database, else PGlite).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { namespacePath, PostgresStore, SQLiteStore, type SqlStore } from '../src';
import { loadConversations } from './locomo';
import { BENCH_PG_URL, withScratchDatabase } from './scratch-database';

function args(): { counts: number[]; per: number; queries: number } {
  const out = { counts: [1, 10, 100], per: 1000, queries: 50 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--namespaces') out.counts = argv[++i].split(',').map(Number);
    else if (argv[i] === '--per') out.per = Number(argv[++i]);
    else if (argv[i] === '--queries') out.queries = Number(argv[++i]);
  }
  return out;
}

/** Texts and questions: LoCoMo's when it is there, generated ones otherwise. */
function corpus(): { texts: string[]; questions: string[] } {
  const folder = [process.env.AIMEMO_LOCOMO, path.join(__dirname, '.data', 'locomo'), path.join(__dirname, '..', '..', 'shared', 'data', 'locomo')].find((p) => p && fs.existsSync(p));
  if (folder) {
    const conversations = loadConversations(folder);
    return { texts: conversations.flatMap((c) => c.memories.map((m) => m.content)), questions: conversations.flatMap((c) => c.questions.map((q) => q.question)) };
  }
  const words = ['hiking', 'paint', 'dog', 'garden', 'music', 'travel', 'cook', 'school', 'friend', 'book', 'race', 'camp'];
  const texts = Array.from({ length: 5000 }, (_, i) => `note ${i}: ${words[i % 12]} and ${words[(i * 7) % 12]} with ${words[(i * 5) % 12]}`);
  return { texts, questions: words.map((w, i) => `what about ${w} and ${words[(i + 3) % 12]}?`) };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function time(fn: () => Promise<unknown>, n: number): Promise<string> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.95).toFixed(2)} ms`;
}

async function measure(label: string, store: SqlStore, lines: string[]): Promise<void> {
  const { counts, per, queries } = args();
  const { texts, questions } = corpus();
  for (const n of counts) {
    const root = `bench-${n}`;
    for (let k = 0; k < n; k++) {
      const namespace = namespacePath([root, String(k), 'memories']);
      await store.saveMany(Array.from({ length: per }, (_, i) => ({ id: `m${i}`, namespace, content: texts[(k * per + i) % texts.length] })));
    }
    let q = 0;
    const next = () => questions[q++ % questions.length];
    const one = await time(() => store.search(next(), { namespace: namespacePath([root, '0', 'memories']), mode: 'any', limit: 10 }), queries);
    q = 0;
    const across = n <= 100 ? await time(() => store.search(next(), { namespacePrefix: [root], mode: 'any', limit: 10 }), queries) : 'over the cap';
    const list = await time(() => store.list({ namespacePrefix: [root], limit: 10 }), queries);
    const names = await time(() => store.getAllNamespaces({ namespacePrefix: [root] }), queries);
    lines.push(`| ${label} | ${n} | ${per} | ${one} | ${across} | ${list} | ${names} |`);
  }
}

async function main(): Promise<void> {
  const lines = ['| backend | namespaces | memories each | search, one namespace (p50 / p95) | search across the prefix | list 10 across | getAllNamespaces under it |', '| --- | --- | --- | --- | --- | --- | --- |'];
  const sqlite = new SQLiteStore(':memory:');
  await measure('SQLite', sqlite, lines);
  await sqlite.close();
  if (BENCH_PG_URL) {
    await withScratchDatabase(BENCH_PG_URL, 'prefix', async (url) => {
      const pg = new PostgresStore(url);
      await measure('PostgreSQL', pg, lines);
      await pg.close();
    });
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
    const pglite = new PGlite({ extensions: { btree_gin } });
    const pg = new PostgresStore(pglite);
    await measure('PGlite', pg, lines);
    await pg.close();
    await pglite.close();
  }
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
