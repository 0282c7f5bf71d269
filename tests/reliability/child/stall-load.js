'use strict';
/**
 * A process of the old version reading or writing a SQLite file back to back
 * while another process upgrades it (tests/helpers/stalls.ts).
 *
 *   fork(this file, ['reader' | 'writer', file, rows])
 *
 * It opens the file with better-sqlite3 as the store does (busy timeout
 * 5000 ms), sends 'ready', then runs a primary-key read (reader) or an
 * upsert of a new row (writer) every 5 ms until it gets 'stop', and sends back
 * every operation as `{ at, ms, error? }` (at: Date.now() when it started).
 * Paced, not back to back: on two cores a spinning loop would slow the
 * upgrade it measures.
 */
const Database = require('better-sqlite3');

const [kind, file, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const db = new Database(file, { timeout: 5000 });
const read = db.prepare('SELECT content FROM memories WHERE namespace = ? AND id = ?');
const write = db.prepare(
  `INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES (?, ?, ?, '{}', '[]', ?)
   ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content`,
);
const ops = [];
let running = true;
let n = 0;

process.on('message', (message) => {
  if (message === 'stop') running = false;
});

function tick() {
  if (!running) {
    db.close();
    process.send(ops, () => process.exit(0));
    return;
  }
  const at = Date.now();
  const t = performance.now();
  try {
    if (kind === 'reader') read.get('stalls', `old-${Math.floor(Math.random() * rows)}`);
    else write.run('stalls', `new-${n}`, `written during the upgrade ${n++}`, Date.now());
    ops.push({ at, ms: performance.now() - t });
  } catch (error) {
    ops.push({ at, ms: performance.now() - t, error: error.code || error.message });
  }
  setTimeout(tick, 5);
}

process.send('ready');
setTimeout(tick, 5);
