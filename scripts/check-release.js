#!/usr/bin/env node
/**
 * Release bookkeeping is consistent (`npm run release:check`, CI):
 *
 *   version     package.json's version is semver and is the newest version in
 *               releases.json (a version is only changed by `npm run release`);
 *   releases    releases.json's versions are semver, increasing, each with a
 *               40-hex commit, and each has a `## [x.y.z] - YYYY-MM-DD`
 *               section and a link in CHANGELOG.md;
 *   unreleased  CHANGELOG.md starts its versions with `## [Unreleased]`;
 *   migrations  every migration of migrations/sqlite and migrations/postgres
 *               is named in CHANGELOG.md (Keep a Changelog; this project's
 *               entries name their schema migrations): a new one goes under
 *               [Unreleased], "Schema migrations".
 *
 *   node scripts/check-release.js [repository root]
 *
 * Prints one line per check; on a problem, what is wrong, and exits 1. The
 * check is exported for tests.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/;

/** -1, 0 or 1 (pre-releases ignored beyond their core). */
function compareVersions(a, b) {
  const pa = a.split(/[.-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return 0;
}

/** CHANGELOG.md's version sections: `[{ name, date, body }]` in file order. */
function sections(changelog) {
  const out = [];
  const re = /^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$/gm;
  const heads = [...changelog.matchAll(re)];
  heads.forEach((m, i) => {
    const end = i + 1 < heads.length ? heads[i + 1].index : changelog.length;
    out.push({ name: m[1], date: m[2], body: changelog.slice(m.index + m[0].length, end) });
  });
  return out;
}

/**
 * Problems with the release bookkeeping ([] when consistent).
 * @param input { version, releases: [{ version, commit, date }], changelog, migrations: ['0000_init', …] }
 */
function checkRelease({ version, releases, changelog, migrations }) {
  const problems = [];
  if (!SEMVER.test(version)) problems.push(`package.json: version ${version} is not semver (x.y.z)`);
  releases.forEach((r, i) => {
    if (!SEMVER.test(r.version)) problems.push(`releases.json: ${r.version} is not semver`);
    if (!/^[0-9a-f]{40}$/.test(r.commit)) problems.push(`releases.json: ${r.version} has no full commit hash`);
    if (i > 0 && compareVersions(r.version, releases[i - 1].version) <= 0) problems.push(`releases.json: ${r.version} does not come after ${releases[i - 1].version}`);
  });
  const last = releases[releases.length - 1];
  if (last && version !== last.version) {
    problems.push(`package.json: version ${version} is not the newest release (${last.version}); versions change only with npm run release -- <version>`);
  }
  const found = sections(changelog);
  if (found[0]?.name !== 'Unreleased') problems.push('CHANGELOG.md: the first version section must be ## [Unreleased]');
  for (const r of releases) {
    const section = found.find((s) => s.name === r.version);
    if (!section) problems.push(`CHANGELOG.md: no section ## [${r.version}] - ${r.date}`);
    else if (section.date !== r.date) problems.push(`CHANGELOG.md: ## [${r.version}] is dated ${section.date ?? '(none)'}; releases.json says ${r.date}`);
    if (!new RegExp(`^\\[${r.version.replace(/\./g, '\\.')}\\]: \\S+`, 'm').test(changelog)) problems.push(`CHANGELOG.md: no link [${r.version}]: … at the end`);
  }
  for (const tag of migrations) {
    if (!found.some((s) => s.body.includes(tag))) {
      problems.push(`CHANGELOG.md: migration ${tag} is not named; add it under [Unreleased], "Schema migrations"`);
    }
  }
  return problems;
}

/** What checkRelease needs, read from a repository. */
function readRepository(root) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const { releases } = JSON.parse(fs.readFileSync(path.join(root, 'releases.json'), 'utf8'));
  const migrations = ['sqlite', 'postgres'].flatMap((d) =>
    JSON.parse(fs.readFileSync(path.join(root, 'migrations', d, 'meta', '_journal.json'), 'utf8')).entries.map((e) => e.tag),
  );
  return { version: pkg.version, releases, changelog: fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), migrations };
}

function main() {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
  const input = readRepository(root);
  const problems = checkRelease(input);
  if (problems.length) {
    console.error(`check-release: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`check-release: version ${input.version}, ${input.releases.length} release(s) in releases.json and CHANGELOG.md, all ${input.migrations.length} migrations named`);
  }
}

if (require.main === module) main();

module.exports = { checkRelease, readRepository, sections, compareVersions, SEMVER };
