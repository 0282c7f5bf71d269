'use strict';
/**
 * One of several processes writing to one SQLite file at once
 * (tests/reliability/sqlite-processes.test.ts).
 *
 *   fork(this file, [file, writer, count, seed])
 *
 * It loads everything and sends 'ready'; on 'go' it opens the store (the file
 * may be brand new: every writer migrates it at once) and makes `count`
 * save() calls, mixed with saveMany batches of 2-20 memories, searches for
 * what it saved before (each must find exactly that memory), ranked searches,
 * reads and counts. Memories get the ids `w<writer>-<n>`, n = 0, 1, …
 * Every error is caught and reported, none is retried. It prints one line `RESULT <json>` and exits.
 */
const { aimemo, prng, describeError } = require('./common');

const [file, writerArg, countArg, seedArg] = process.argv.slice(2);
const writer = Number(writerArg);
const count = Number(countArg);
const rand = prng(Number(seedArg) + writer * 7919);
const { SQLiteStore } = aimemo();

const TOPICS = ['kiwi orchards', 'deploy pipelines', 'dark mode', 'budget reviews', 'rust compilers', 'hiking trails'];
const namespace = `writers-${writer % 2}`; // two writers share each namespace

function memory(n) {
  return {
    id: `w${writer}-${n}`,
    namespace,
    content: `writer ${writer} noted memory ${n} about ${TOPICS[n % TOPICS.length]}; token w${writer}n${n}`,
    tags: [`writer${writer}`, TOPICS[n % TOPICS.length].split(' ')[0]],
    metadata: { writer, n },
  };
}

async function run() {
  const store = new SQLiteStore(file);
  const result = { writer, ids: 0, saved: 0, saves: 0, batches: 0, searches: 0, misses: [], reads: 0, failedIds: [], errors: [] };
  const attempt = async (op, fn) => {
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      result.errors.push(describeError(op, error));
      return { ok: false };
    }
  };
  let next = 0;
  while (result.saves < count) {
    const r = rand();
    if (r < 0.15 && next > 0) {
      const n = Math.floor(rand() * next);
      if (result.failedIds.includes(`w${writer}-${n}`)) continue;
      const hits = await attempt('search', () => store.search(`w${writer}n${n}`, { namespace }));
      result.searches++;
      if (hits.ok && !(hits.value.length === 1 && hits.value[0].id === `w${writer}-${n}`)) result.misses.push(n);
    } else if (r < 0.2) {
      await attempt('search', () => store.search('kiwi OR budget', { namespace, mode: 'any', limit: 20 }));
      result.searches++;
    } else if (r < 0.25) {
      await attempt('read', () => (rand() < 0.5 ? store.count(namespace) : store.list({ namespace, limit: 10, tags: [`writer${writer}`] })));
      result.reads++;
    } else if (r < 0.4) {
      const size = 2 + Math.floor(rand() * 19);
      const batch = Array.from({ length: size }, (_, i) => memory(next + i));
      const done = await attempt('saveMany', () => store.saveMany(batch));
      if (done.ok) result.saved += size;
      else result.failedIds.push(...batch.map((m) => m.id));
      result.batches++;
      next += size;
    } else {
      const m = memory(next);
      const done = await attempt('save', () => store.save(m));
      if (done.ok) result.saved++;
      else result.failedIds.push(m.id);
      result.saves++;
      next++;
    }
  }
  await store.close();
  result.ids = next;
  return result;
}

process.once('message', (message) => {
  if (message !== 'go') return;
  const started = Date.now();
  run().then(
    (result) => {
      process.stdout.write(`RESULT ${JSON.stringify({ ...result, ms: Date.now() - started })}\n`);
      process.disconnect();
    },
    (error) => {
      console.error(error && error.stack ? error.stack : error);
      process.exitCode = 1;
      process.disconnect();
    },
  );
});
process.send('ready');
