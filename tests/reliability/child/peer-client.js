'use strict';
/**
 * Connects a store to a peer that is not (or not quite) PostgreSQL and
 * reports how each call settled (tests/reliability/postgres-peers.test.ts).
 * Runs in its own process: if the driver crashed the host, the parent sees
 * the exit code, not a broken jest worker.
 *
 *   fork(this file, [url, connectTimeoutSeconds])
 *
 * Prints one JSON line: [{ call, name, code, ms }…], then exits 0.
 */
const { aimemo } = require('./common');

const [url, timeoutArg] = process.argv.slice(2);
const { PostgresStore } = aimemo();

async function run() {
  const store = new PostgresStore(url, { connectTimeout: Number(timeoutArg), poolSize: 2, maxOverflow: 0 });
  const started = Date.now();
  const settle = (call, promise) =>
    promise.then(
      () => ({ call, name: 'ok', code: null, ms: Date.now() - started }),
      (e) => ({ call, name: e && e.name, code: e && e.code, message: String(e && e.message).slice(0, 200), ms: Date.now() - started }),
    );
  const outcomes = await Promise.all([
    settle('count', store.count('x')),
    settle('search', store.search('apple pie', { mode: 'any' })),
    settle('save', store.save({ content: 'x' })),
  ]);
  outcomes.push(await settle('close', store.close()));
  process.stdout.write(`${JSON.stringify(outcomes)}\n`);
  process.exit(0);
}

run().catch((error) => {
  process.stdout.write(`FATAL ${String(error && error.stack)}\n`);
  process.exit(3);
});
