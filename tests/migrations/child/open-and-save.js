'use strict';
/**
 * One of the processes in the "several processes open one new database at once"
 * migration tests. Plain Node on the built package (dist/), as an app would run.
 *
 *   fork(this file, [dialect, target, id])   dialect: sqlite | postgres; target: file path or URL
 *
 * It loads everything first and sends 'ready'; the parent sends 'go' once every
 * child is ready, so all of them reach the migration at the same moment. It then
 * creates the store (which migrates on first use), saves one memory and exits 0;
 * any error is printed and the exit code is 1.
 */
const { aimemo } = require('../../reliability/child/common'); // loads dist/ as an app would

const [dialect, target, id] = process.argv.slice(2);
const { SQLiteStore, PostgresStore } = aimemo();

async function openAndSave() {
  const store = dialect === 'postgres' ? new PostgresStore(target, { poolSize: 1, maxOverflow: 0 }) : new SQLiteStore(target);
  try {
    await store.save({ id, namespace: 'race', content: `process ${id} opened the store` });
  } finally {
    await store.close();
  }
}

process.once('message', (message) => {
  if (message !== 'go') return;
  openAndSave().then(
    () => process.disconnect(),
    (error) => {
      console.error(error && error.stack ? error.stack : error);
      if (error && error.cause) console.error('cause:', error.cause);
      process.exitCode = 1;
      process.disconnect();
    },
  );
});
process.send('ready');
