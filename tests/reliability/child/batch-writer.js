'use strict';
/**
 * Writes saveMany batches until it is killed (tests/reliability/crash.test.ts).
 *
 *   fork(this file, [dialect, target, progressFile, firstBatch, seed, maxBatch])
 *
 * Batch b holds 1..maxBatch memories with ids `b<b>-<i>` in namespace 'crash',
 * each containing the word `crashb<b>`. Before a batch it appends
 * `start <b> <size>` to the progress file, after it `done <b>`, both with
 * synchronous writes, so the parent knows which batches were acknowledged and
 * which one was in flight when the process died. An error is recorded as
 * `error <b> <json>` and ends the process with exit code 1.
 */
const fs = require('node:fs');
const { aimemo, prng, describeError } = require('./common');

const [dialect, target, progressFile, firstArg, seedArg, maxArg] = process.argv.slice(2);
const rand = prng(Number(seedArg) + Number(firstArg));
const maxBatch = Number(maxArg);
const { SQLiteStore, PostgresStore } = aimemo();

const log = fs.openSync(progressFile, 'a');
const note = (line) => fs.writeSync(log, `${line}\n`);

async function run() {
  const store = dialect === 'sqlite' ? new SQLiteStore(target) : new PostgresStore(target, { poolSize: 2, maxOverflow: 0 });
  await store.ready();
  process.send('ready');
  for (let b = Number(firstArg); ; b++) {
    // Mostly large batches (PostgreSQL: several INSERTs in one transaction), some single ones.
    const size = rand() < 0.1 ? 1 : 1 + Math.floor(rand() * maxBatch);
    const batch = Array.from({ length: size }, (_, i) => ({
      id: `b${b}-${i}`,
      namespace: 'crash',
      content: `batch ${b} row ${i} of ${size}: crashb${b} written before the crash`,
      tags: ['crash', `size${size}`],
      metadata: { b, i },
    }));
    note(`start ${b} ${size}`);
    try {
      await store.saveMany(batch);
    } catch (error) {
      note(`error ${b} ${JSON.stringify(describeError('saveMany', error))}`);
      throw error;
    }
    note(`done ${b}`);
  }
}

run().catch(() => process.exit(1)); // the error is in the progress file
