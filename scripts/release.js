#!/usr/bin/env node
/**
 * Cuts a release: `npm run release -- <version>` on a clean work tree.
 *
 * 1. Checks: <version> is semver and after the newest in releases.json;
 *    CHANGELOG.md's [Unreleased] section has entries; `npm run
 *    release:check` passes (every migration named). A migration since the
 *    last release that marks itself incompatible with older releases (it
 *    writes `__aimemo_compat`, docs/schema.md) needs a major version (a minor
 *    one before 1.0): older releases refuse to write after it.
 * 2. CHANGELOG.md: [Unreleased] becomes `## [<version>] - <today>` under a new
 *    empty [Unreleased], and the links at the end follow; package.json (and
 *    package-lock.json) get the version. Commit "Release <version>", tag
 *    v<version> on it.
 * 3. releases.json records that commit (tags do not travel with every clone;
 *    the upgrade tests read this file): a second commit.
 *
 * Pushing and `npm publish` stay yours: the script prints them.
 *
 *   node scripts/release.js <version> [--date YYYY-MM-DD]
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { SEMVER, checkRelease, compareVersions, readRepository, sections } = require('./check-release');

const root = path.join(__dirname, '..');
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const fail = (message) => {
  console.error(`release: ${message}`);
  process.exit(1);
};

const version = process.argv[2];
const dateArg = process.argv.indexOf('--date');
const date = dateArg > 0 ? process.argv[dateArg + 1] : new Date().toISOString().slice(0, 10);
if (!version || !SEMVER.test(version)) fail('usage: npm run release -- <x.y.z>');
if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) fail(`--date must be YYYY-MM-DD; got ${date}`);
if (git('status', '--porcelain')) fail('the work tree has changes; commit or stash them first');

const repo = readRepository(root);
const problems = checkRelease(repo);
if (problems.length) fail(`fix these first (npm run release:check):\n  ${problems.join('\n  ')}`);
const last = repo.releases[repo.releases.length - 1];
if (last && compareVersions(version, last.version) <= 0) fail(`${version} must come after ${last.version}`);
const unreleased = sections(repo.changelog)[0];
if (!unreleased.body.trim()) fail('CHANGELOG.md: [Unreleased] is empty; say what this release changes');

// Migrations since the last release that mark themselves incompatible need a breaking version.
if (last) {
  const breaking = ['sqlite', 'postgres'].flatMap((d) => {
    const dir = path.join('migrations', d);
    const released = new Set(git('ls-tree', '--name-only', `${last.commit}`, `${dir}/`).split('\n').map((f) => path.basename(f)));
    return fs
      .readdirSync(path.join(root, dir))
      .filter((f) => f.endsWith('.sql') && !released.has(f) && /__aimemo_compat/.test(fs.readFileSync(path.join(root, dir, f), 'utf8')))
      .map((f) => `${d}/${f}`);
  });
  const [major, minor] = last.version.split('.').map(Number);
  const [nextMajor, nextMinor] = version.split('.').map(Number);
  const isBreaking = major === 0 ? nextMajor > 0 || nextMinor > minor : nextMajor > major;
  if (breaking.length && !isBreaking) {
    fail(`${breaking.join(', ')} mark(s) the schema incompatible with older releases: ${version} must be a ${major === 0 ? 'new minor (0.x) or major' : 'new major'} version`);
  }
}

// CHANGELOG.md: the new section and its links.
let changelog = repo.changelog.replace(/^## \[Unreleased\]\s*$/m, `## [Unreleased]\n\n## [${version}] - ${date}`);
const compare = /^\[Unreleased\]: (\S+)\/compare\/v[^.]+\.[^.]+\.\S+\.\.\.HEAD$/m.exec(changelog);
if (compare) {
  const base = compare[1];
  changelog = changelog.replace(
    compare[0],
    `[Unreleased]: ${base}/compare/v${version}...HEAD\n[${version}]: ${last ? `${base}/compare/v${last.version}...v${version}` : `${base}/releases/tag/v${version}`}`,
  );
}
fs.writeFileSync(path.join(root, 'CHANGELOG.md'), changelog);
for (const file of ['package.json', 'package-lock.json']) {
  const full = path.join(root, file);
  if (!fs.existsSync(full)) continue;
  const json = JSON.parse(fs.readFileSync(full, 'utf8'));
  json.version = version;
  if (json.packages?.['']) json.packages[''].version = version;
  fs.writeFileSync(full, `${JSON.stringify(json, null, 2)}\n`);
}
git('commit', '-q', '-am', `Release ${version}`);
const commit = git('rev-parse', 'HEAD');
git('tag', '-a', `v${version}`, '-m', `aimemo ${version}`);

const releasesFile = path.join(root, 'releases.json');
const releases = JSON.parse(fs.readFileSync(releasesFile, 'utf8'));
releases.releases.push({ version, commit, date });
fs.writeFileSync(releasesFile, `${JSON.stringify(releases, null, 2)}\n`);
git('commit', '-q', '-am', `releases.json: ${version} is ${commit.slice(0, 7)}`);
console.log(`release: ${version} committed and tagged v${version} (${commit.slice(0, 7)}), recorded in releases.json.\nNext: git push --follow-tags && npm publish`);
