#!/usr/bin/env node
/**
 * The API reference in docs/api is current (`npm run docs:check`, CI).
 *
 * docs/api is generated from the TSDoc comments of the public entry points by
 * TypeDoc with typedoc-plugin-markdown (`npm run docs:api`, settings in
 * typedoc.json; warnings such as a broken {@link} fail it) and committed, so
 * the reference travels with the package and reads on any Git host. This
 * generates it again into a temp folder and compares: a change to a TSDoc
 * comment or a public type without `npm run docs:api` fails here, naming the
 * pages that differ.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.join(__dirname, '..');
const committed = path.join(repo, 'docs', 'api');

function files(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full, base) : [path.relative(base, full)];
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-api-'));
try {
  const typedoc = path.join(repo, 'node_modules', 'typedoc', 'bin', 'typedoc');
  execFileSync(process.execPath, [typedoc, '--out', tmp, '--logLevel', 'Warn'], { cwd: repo, stdio: 'inherit' });
  const fresh = new Set(files(tmp));
  const old = new Set(files(committed));
  const differ = [...new Set([...fresh, ...old])]
    .sort()
    .filter((f) => !fresh.has(f) || !old.has(f) || !fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(committed, f))))
    .map((f) => `${f}${!old.has(f) ? ' (missing)' : !fresh.has(f) ? ' (no longer generated)' : ''}`);
  if (differ.length) {
    console.error(`check-docs: docs/api is stale in ${differ.length} file${differ.length === 1 ? '' : 's'}; run npm run docs:api and commit:\n${differ.slice(0, 20).map((f) => `  docs/api/${f}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`check-docs: docs/api is current (${fresh.size} pages)`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
