/**
 * Issue 12.5: release mechanics. scripts/check-release.js (CI: `npm run
 * release:check`) keeps package.json, releases.json and CHANGELOG.md in step
 * and every migration named; scripts/release.js (`npm run release -- x.y.z`)
 * cuts a release in a clone of this repository: the CHANGELOG section, the
 * version, the tag, the releases.json record of the tagged commit, and a
 * breaking version when a new migration marks itself incompatible.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../src/migrate/locate';
import { readJournal } from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

interface ReleaseInput {
  version: string;
  releases: { version: string; commit: string; date: string }[];
  changelog: string;
  migrations: string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkRelease, readRepository } = require('../../scripts/check-release.js') as {
  checkRelease(input: ReleaseInput): string[];
  readRepository(root: string): ReleaseInput;
};

const tmp = tempDir('release');
afterAll(() => tmp.cleanup());

const COMMIT = 'a'.repeat(40);
const CHANGELOG = `# Changelog

## [Unreleased]

### Schema migrations
- \`0001_next\`

## [0.1.0] - 2026-11-25

- \`0000_init\`

[Unreleased]: https://example.com/aimemo/compare/v0.1.0...HEAD
[0.1.0]: https://example.com/aimemo/releases/tag/v0.1.0
`;
const good: ReleaseInput = { version: '0.1.0', releases: [{ version: '0.1.0', commit: COMMIT, date: '2026-11-25' }], changelog: CHANGELOG, migrations: ['0000_init', '0001_next'] };

describe('scripts/check-release.js', () => {
  it('passes on this repository', () => {
    expect(checkRelease(readRepository(packageRoot()))).toEqual([]);
  });

  it.each<[string, Partial<ReleaseInput>, string]>([
    ['a migration the CHANGELOG does not name', { migrations: ['0000_init', '0001_next', '0002_forgotten'] }, 'CHANGELOG.md: migration 0002_forgotten is not named; add it under [Unreleased], "Schema migrations"'],
    ['a version bumped by hand', { version: '0.2.0' }, 'package.json: version 0.2.0 is not the newest release (0.1.0); versions change only with npm run release -- <version>'],
    ['a release without its section', { releases: [...good.releases, { version: '0.2.0', commit: COMMIT, date: '2026-12-01' }], version: '0.2.0' }, 'CHANGELOG.md: no section ## [0.2.0] - 2026-12-01'],
    ['no [Unreleased] section', { changelog: CHANGELOG.replace('## [Unreleased]\n', '') }, 'CHANGELOG.md: the first version section must be ## [Unreleased]'],
    ['a version that is not semver', { version: '1.0' }, 'package.json: version 1.0 is not semver (x.y.z)'],
  ])('reports %s', (_label, change, problem) => {
    expect(checkRelease({ ...good, ...change })).toContain(problem);
  });
});

describe('scripts/release.js in a clone of this repository', () => {
  let clone: string;
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: clone, env, encoding: 'utf8' }).trim();
  const release = (...args: string[]) => {
    try {
      return { code: 0, output: execFileSync(process.execPath, ['scripts/release.js', ...args], { cwd: clone, env, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (error) {
      const e = error as { status: number; stderr: string; stdout: string };
      return { code: e.status, output: `${e.stdout}${e.stderr}` };
    }
  };

  beforeAll(() => {
    clone = tmp.file('clone');
    execFileSync('git', ['clone', '-q', packageRoot(), clone], { env });
    // The clone holds what is committed; bring the working copies of the release scripts and bookkeeping.
    for (const f of ['scripts/release.js', 'scripts/check-release.js', 'CHANGELOG.md', 'releases.json', 'package.json']) {
      fs.copyFileSync(path.join(packageRoot(), f), path.join(clone, f));
    }
    const log = path.join(clone, 'CHANGELOG.md');
    fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replace('## [Unreleased]\n', '## [Unreleased]\n\n### Added\n- An entry of the release under test.\n'));
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', 'test: the working copy of the release scripts');
  }, 60_000);

  it('refuses a dirty tree, an empty [Unreleased] and a version that does not come after the last', () => {
    fs.appendFileSync(path.join(clone, 'README.md'), '\n');
    expect(release('0.2.0').output).toContain('the work tree has changes');
    git('checkout', '--', 'README.md');
    const log = fs.readFileSync(path.join(clone, 'CHANGELOG.md'), 'utf8');
    const withoutEntries = log.replace(/## \[Unreleased\][\s\S]*?(?=## \[0\.1\.0\])/, '## [Unreleased]\n\n');
    fs.writeFileSync(path.join(clone, 'CHANGELOG.md'), withoutEntries);
    git('commit', '-q', '-am', 'empty unreleased');
    // With migrations no release has shipped yet, an empty [Unreleased] fails first for not naming them.
    const released = log.slice(log.indexOf('## [0.1.0]'));
    const pending = (['sqlite', 'postgres'] as const).flatMap((d) => readJournal(d).map((e) => e.tag)).filter((tag) => !released.includes(tag));
    if (pending.length) for (const tag of pending) expect(release('0.2.0').output).toContain(`migration ${tag} is not named`);
    else expect(release('0.2.0').output).toContain('[Unreleased] is empty');
    fs.writeFileSync(path.join(clone, 'CHANGELOG.md'), log);
    git('commit', '-q', '-am', 'entries back');
    expect(release('0.1.0').output).toContain('0.1.0 must come after 0.1.0');
  });

  it('a new migration marked incompatible needs a new minor version before 1.0', () => {
    const file = path.join(clone, 'migrations', 'sqlite', '0999_breaking.sql');
    fs.writeFileSync(file, "INSERT INTO __aimemo_compat (tag, version, reason) VALUES ('0999_breaking', '0.2.0', 'test');\n");
    const journal = path.join(clone, 'migrations', 'sqlite', 'meta', '_journal.json');
    const j = JSON.parse(fs.readFileSync(journal, 'utf8'));
    j.entries.push({ idx: j.entries.length, version: '6', when: j.entries[j.entries.length - 1].when + 1, tag: '0999_breaking', breakpoints: true });
    fs.writeFileSync(journal, JSON.stringify(j, null, 2));
    // Named under [Unreleased]'s "Schema migrations": in the section it already has (other unreleased migrations), or a new one.
    const changelog = fs.readFileSync(path.join(clone, 'CHANGELOG.md'), 'utf8');
    const unreleased = changelog.slice(0, changelog.indexOf('## [0.1.0]'));
    const named = unreleased.includes('### Schema migrations\n')
      ? changelog.replace('### Schema migrations\n', '### Schema migrations\n- SQLite: `0999_breaking`\n')
      : changelog.replace('## [Unreleased]\n', '## [Unreleased]\n\n### Schema migrations\n- SQLite: `0999_breaking`\n');
    fs.writeFileSync(path.join(clone, 'CHANGELOG.md'), named);
    git('add', '-A');
    git('commit', '-q', '-m', 'a breaking migration');
    const patch = release('0.1.1');
    expect(patch.code).toBe(1);
    expect(patch.output).toContain('sqlite/0999_breaking.sql mark(s) the schema incompatible with older releases: 0.1.1 must be a new minor (0.x) or major version');
  });

  it('cuts 0.2.0: CHANGELOG section and links, package.json, tag v0.2.0, releases.json records the tagged commit', () => {
    const r = release('0.2.0', '--date', '2026-12-24');
    expect(r).toMatchObject({ code: 0, output: expect.stringContaining('0.2.0 committed and tagged v0.2.0') });
    const changelog = fs.readFileSync(path.join(clone, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(/## \[Unreleased\]\n\n## \[0\.2\.0\] - 2026-12-24\n/);
    expect(changelog).toMatch(/^\[Unreleased\]: \S+\/compare\/v0\.2\.0\.\.\.HEAD$/m);
    expect(changelog).toMatch(/^\[0\.2\.0\]: \S+\/compare\/v0\.1\.0\.\.\.v0\.2\.0$/m);
    expect(JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')).version).toBe('0.2.0');
    const releases = JSON.parse(fs.readFileSync(path.join(clone, 'releases.json'), 'utf8')).releases as { version: string; commit: string }[];
    expect(releases[releases.length - 1]).toEqual({ version: '0.2.0', commit: git('rev-parse', 'v0.2.0^{commit}'), date: '2026-12-24' });
    expect(git('status', '--porcelain')).toBe('');
    expect(checkRelease(readRepository(clone))).toEqual([]);
  });
});
