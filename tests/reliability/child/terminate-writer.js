'use strict';
/**
 * Writes large saveMany batches until told to stop, while the parent ends its
 * server sessions with pg_terminate_backend (tests/reliability/postgres-terminate.test.ts).
 *
 *   fork(this file, [url, mode, progressFile, seed, firstBatch])
 *
 * mode 'url': a store opened from the URL (its own pool); 'client': a store on
 * the app's own postgres.js client. Batch b holds 5,001-12,000 memories with
 * ids `b<b>-<i>` (more than one statement's worth). Progress lines, written
 * synchronously: `start <b> <size>`, then `done <b>` or `error <b> <json>`.
 * An error is expected (the session was ended); the process must survive it.
 * 'stop' from the parent ends the loop, closes the store and exits with 0.
 */
const fs = require('node:fs');
const { aimemo, prng, describeError } = require('./common');

const [url, mode, progressFile, seedArg, firstArg] = process.argv.slice(2);
const rand = prng(Number(seedArg));
const { PostgresStore } = aimemo();

const log = fs.openSync(progressFile, 'a');
const note = (line) => fs.writeSync(log, `${line}\n`);
let stopping = false;
process.on('message', (m) => {
  if (m === 'stop') stopping = true;
});

async function run() {
  let client;
  let store;
  if (mode === 'client') {
    const postgres = require('postgres');
    client = postgres(url, { max: 2, onnotice: () => undefined, connection: { application_name: 'aimemo' } });
    store = new PostgresStore(client);
  } else {
    store = new PostgresStore(url, { poolSize: 2, maxOverflow: 0, connectTimeout: 5 });
  }
  await store.ready();
  process.send('ready');
  for (let b = Number(firstArg); !stopping; b++) {
    const size = 5001 + Math.floor(rand() * 7000);
    const batch = Array.from({ length: size }, (_, i) => ({
      id: `b${b}-${i}`,
      namespace: 'terminate',
      content: `batch ${b} row ${i} of ${size}, written while the server ends sessions`,
      metadata: { b, i },
    }));
    note(`start ${b} ${size}`);
    try {
      await store.saveMany(batch);
      note(`done ${b}`);
    } catch (error) {
      note(`error ${b} ${JSON.stringify(describeError('saveMany', error))}`);
    }
  }
  await store.close();
  if (client) await client.end({ timeout: 5 });
  process.exit(0);
}

run().catch((error) => {
  note(`fatal ${JSON.stringify(describeError('run', error))}`);
  process.exit(3);
});
