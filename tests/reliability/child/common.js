'use strict';
/**
 * Shared by the reliability tests' child processes: they run plain Node on the
 * build in dist/, as an app would.
 */
const fs = require('node:fs');
const path = require('node:path');

function packageRoot() {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'aimemo') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find aimemo's package.json above ${__dirname}`);
  }
}

/** The package as an app would load it. */
function aimemo() {
  return require(path.join(packageRoot(), 'dist', 'src'));
}

/** mulberry32: the same seeded PRNG as tests/helpers/reliability.ts. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What an error was, for the parent's report (never memory content: AIMemo messages do not hold any). */
function describeError(op, error) {
  return { op, name: error && error.name, code: error && error.code, message: String(error && error.message).slice(0, 300) };
}

module.exports = { aimemo, prng, describeError };
