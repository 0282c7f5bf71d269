#!/usr/bin/env node
// Reads jest's --json output, prints how many tests each backend ran, fails when
// the SQLite, PGlite or PostgreSQL-server suite ran no test, and ends with the
// plain closing line "N passed, N failed, N skipped".
'use strict';
const fs = require('node:fs');

const file = process.argv[2];
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const tests = report.testResults.flatMap((f) => f.assertionResults.map((t) => ({ ...t, file: f.name })));
const count = (status) => tests.filter((t) => t.status === status).length;

const suites = {
  'SQLite (:memory: and file)': (t) => t.ancestorTitles.some((a) => a.startsWith('SQLiteStore(')),
  'PGlite (embedded PostgreSQL)': (t) => t.ancestorTitles.some((a) => a.startsWith('PostgresStore(PGlite)')),
  'PostgreSQL server': (t) => t.ancestorTitles.some((a) => a.startsWith('PostgresStore(server)')),
};
let missing = 0;
for (const [name, match] of Object.entries(suites)) {
  const ran = tests.filter((t) => match(t) && t.status === 'passed').length;
  console.log(`${name}: ${ran} conformance tests passed`);
  if (ran === 0) {
    console.error(`the ${name} suite did not run`);
    missing++;
  }
}
const reliability = tests.filter((t) => t.file.includes('/tests/reliability/') && t.status === 'passed').length;
console.log(`Reliability (tests/reliability, short versions): ${reliability} tests passed`);
if (reliability === 0) {
  console.error('the reliability tests did not run');
  missing++;
}
const skipped = count('pending') + count('skipped') + count('todo');
console.log(`jest: ${count('passed')} passed, ${count('failed')} failed, ${skipped} skipped`);
process.exit(missing > 0 || count('failed') > 0 || !report.success ? 1 : 0);
