/**
 * Issue 12.12 (and 12.9 on the command line): the CLI's usage errors and wording.
 *
 * - A value no command accepts is exit code 2 with the option's name, found
 *   before any database is opened: `--mode maybe` like `--limit abc`, a blank
 *   `add` content, `--namespace ''`, a malformed `--db`;
 * - under `--json` every error is one JSON object on stderr, usage errors included;
 * - errors speak CLI: `--force`, not `overwrite: true`; `aimemo migrate`, not `autoMigrate`;
 * - a PostgreSQL URL with an unencoded password says to percent-encode it;
 * - search scores print as a share of the best result;
 * - `aimemo migrate --check` on a database a newer aimemo migrated exits 1
 *   naming both versions; `migrate` applies nothing and fails only when a
 *   newer migration is marked incompatible; other commands warn once on stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import { readMigrations } from '../../src/migrate/locate';
import { packageVersion } from '../../src/migrate/schema-version';
import { migrateSqlite } from '../../src/migrate/sqlite';
import { cliMessage } from '../../src/cli/io';
import { BadFileError, DatabaseUnavailableError, SchemaOutdatedError, ValidationError } from '../../src';
import { aimemo as run, errorOf, type Run } from '../helpers/cli';
import { copyMigrations, newerMigrations, requireBuild } from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('cli-usage');
const aimemo = (args: string[], input?: string): Promise<Run> => run(args, { cwd: tmp.dir, input });
const latest = readMigrations('sqlite').slice(-1)[0].tag;

beforeAll(() => requireBuild());
afterAll(() => tmp.cleanup());

describe('aimemo usage errors', () => {
  it.each([
    ['search --mode maybe', ['search', 'x', '--mode', 'maybe'], "option '--mode <mode>' argument 'maybe' is invalid. Allowed choices are all, any."],
    ['search --limit abc', ['search', 'x', '--limit', 'abc'], "option '-l, --limit <n>' argument 'abc' is invalid. must be a whole number from 1 to 10,000."],
    ['add with blank content', ['add', '  \t '], "command-argument value '  \t ' is invalid for argument 'content'. is blank (only white space): give the text to remember, or - to read it from stdin."],
    ['add -n with an empty namespace', ['add', 'text', '-n', ''], "option '-n, --namespace <namespace>' argument '' is invalid. must be a string of 1-255 characters, not only spaces; got an empty string."],
    ['add --timestamp yesterday', ['add', 'text', '--timestamp', 'yesterday'], expect.stringMatching(/^option '--timestamp <iso>' argument 'yesterday' is invalid\. must be an ISO 8601 date and time/)],
    ['an unknown option', ['list', '--colour'], "unknown option '--colour'"],
  ])('%s: exit 2 before opening the database, in CLI words, as JSON under --json', async (_label, args, message) => {
    const file = tmp.file(`never-${Math.random().toString(36).slice(2)}.db`);
    const text = await aimemo([...args, '--db', file]);
    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: '' });
    expect(text.stderr).toBe(`aimemo: ${typeof message === 'string' ? message : text.stderr.split('\n')[0].slice(8)}\n(run with --help for usage)\n`);
    if (typeof message !== 'string') expect(text.stderr.split('\n')[0].slice(8)).toEqual(message);
    const json = await aimemo([...args, '--db', file, '--json']);
    expect({ code: json.code, stdout: json.stdout }).toEqual({ code: 2, stdout: '' });
    expect(errorOf(json)).toEqual({ name: 'UsageError', code: 'USAGE', message });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('blank content from stdin: exit 2, "<content> must not be blank", no database created', async () => {
    const file = tmp.file('stdin.db');
    const r = await run(['add', '-', '--db', file, '--json'], { cwd: tmp.dir, input: ' \n\n' });
    expect(r.code).toBe(2);
    expect(errorOf(r)).toEqual({ name: 'ValidationError', code: 'VALIDATION', field: '<content>', rule: 'must not be blank', message: '<content> must not be blank; got only white space' });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a value the store refuses is exit 2 with the flag named (list -n "")', async () => {
    const file = tmp.file('list.db');
    expect((await aimemo(['add', 'a note', '--db', file, '-q'])).code).toBe(0);
    const r = await aimemo(['list', '-n', '', '--db', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('aimemo: --namespace must be a string of 1-255 characters, not only spaces; got an empty string\n(run with --help for usage)\n');
    const json = await aimemo(['list', '-n', '', '--db', file, '--json']);
    expect(errorOf(json)).toMatchObject({ name: 'ValidationError', code: 'VALIDATION', field: '--namespace' });
  });

  it.each([
    ['two @', 'postgres://app:p@ss@db.internal:5432/app'],
    ['a #', 'postgres://app:pa#ss@db.internal:5432/app'],
    ['no host', 'postgres://'],
  ])('a PostgreSQL URL with %s: exit 2, hints at percent-encoding the password, never prints it', async (_label, url) => {
    const r = await aimemo(['list', '--db', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('percent-encode a password that holds @ : / ? # [ ] % or spaces (encodeURIComponent)');
    expect(r.stderr).not.toMatch(/p@ss|pa#ss/);
  });

  it('clear without --yes is a usage error, as JSON too', async () => {
    const r = await aimemo(['clear', '-n', 'x', '--db', tmp.file('clear.db'), '--json']);
    expect(r.code).toBe(2);
    expect(errorOf(r)).toMatchObject({ name: 'CliError', code: 'USAGE' });
  });
});

describe('aimemo speaks CLI', () => {
  it('rewrites library wording: --force, aimemo migrate, read-only files', () => {
    expect(cliMessage(new BadFileError('/b/copy.db', 'already exists; pass overwrite: true (CLI: --force) to replace it'))).toBe('/b/copy.db: already exists; pass --force to replace it');
    const outdated = new SchemaOutdatedError('0002_x', '0001_y', 'aimemo migrate --db ./aimemo.db');
    expect(cliMessage(outdated)).not.toContain('autoMigrate');
    expect(cliMessage(new DatabaseUnavailableError('cannot open the SQLite database a.db: no such file (with autoMigrate: false the store never creates one)'))).toBe(
      'cannot open the SQLite database a.db: no such file (`aimemo migrate --db <file>` creates one)',
    );
    expect(cliMessage(new DatabaseUnavailableError('x: SQLITE_READONLY: y. To read a file this process may not write, open it with new SQLiteStore(path, { readonly: true })'))).not.toContain('new SQLiteStore');
    expect(cliMessage(new ValidationError('options.mode', "must be 'all' or 'any'", 'a string'))).toBe("--mode must be 'all' or 'any'; got a string");
    expect(cliMessage(new ValidationError('tags[2]', 'must be a non-empty string', 'number'))).toBe('--tags must be a non-empty string; got number');
  });

  it('backup onto an existing file says --force', async () => {
    const file = tmp.file('force.db');
    await aimemo(['add', 'a note', '--db', file, '-q']);
    const copy = tmp.file('force-copy.db');
    expect((await aimemo(['backup', copy, '--db', file])).code).toBe(0);
    const r = await aimemo(['backup', copy, '--db', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--force');
    expect(r.stderr).not.toContain('overwrite: true');
  });

  it('a read command on an older schema names aimemo migrate, not autoMigrate', async () => {
    const file = tmp.file('older.db');
    await aimemo(['add', 'a note', '--db', file, '-q']);
    const db = new Database(file);
    db.prepare('DELETE FROM __aimemo_migrations WHERE created_at = (SELECT max(created_at) FROM __aimemo_migrations)').run();
    db.close();
    const r = await aimemo(['list', '--db', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Run the migrations first: aimemo migrate --db ${file}.`);
    expect(r.stderr).not.toContain('autoMigrate');
  });

  it('prints search scores as a share of the best result; --json keeps the raw scores', async () => {
    const file = tmp.file('scores.db');
    await aimemo(['add', 'deploys run on github actions every merge', '--db', file, '-q']);
    await aimemo(['add', 'github actions caches the npm packages', '--db', file, '-q']);
    const text = await aimemo(['search', 'github actions merge', '--mode', 'any', '--db', file]);
    const scores = text.stdout.split('\n').filter((l) => !l.startsWith('    ') && l.trim() !== '').map((l) => l.trim().split(/\s+/)[0]);
    expect(scores[0]).toBe('100%');
    expect(scores).toHaveLength(2);
    expect(scores[1]).toMatch(/^\d{1,2}%$/);
    const json = JSON.parse((await aimemo(['search', 'github actions merge', '--mode', 'any', '--db', file, '--json'])).stdout) as { score: number }[];
    expect(typeof json[0].score).toBe('number');
  });
});

describe('aimemo on a database a newer aimemo migrated', () => {
  /** A SQLite file migrated with this build's migrations plus a newer version's. */
  function newerDb(name: string, incompatible: boolean): string {
    const file = tmp.file(name);
    const db = new Database(file);
    migrateSqlite(db, true, copyMigrations('sqlite', tmp.file(`${name}-migrations`), { add: newerMigrations('sqlite', incompatible) }));
    db.close();
    return file;
  }

  it('migrate --check exits 1 naming both versions; migrate applies nothing and exits 0 with a warning; add warns once', async () => {
    const file = newerDb('newer.db', false);
    const check = await aimemo(['migrate', '--check', '--db', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`this aimemo ${packageVersion()} knows`);
    expect(check.stderr).toContain(latest);
    expect(check.stderr).toContain('written by a newer version of aimemo');
    const json = await aimemo(['migrate', '--check', '--db', file, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ upToDate: false, latest, pending: [], version: packageVersion(), newer: [{ hash: expect.any(String) }], incompatible: [] });

    const migrate = await aimemo(['migrate', '--db', file]);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('nothing to apply; the database is newer than this version');
    expect(migrate.stderr).toContain('aimemo: warning: the database schema is newer');

    const add = await aimemo(['add', 'still writable', '--db', file]);
    expect(add.code).toBe(0);
    expect(add.stderr.match(/warning/g)).toHaveLength(1);
  });

  it('with a newer migration marked incompatible: migrate and add exit 1, saying writes are refused and naming the newer version', async () => {
    const file = newerDb('incompatible.db', true);
    const migrate = await aimemo(['migrate', '--db', file]);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain('aimemo 9.0.0 or later');
    expect(migrate.stderr).toContain('writes are refused');
    const add = await aimemo(['add', 'must not be written', '--db', file, '--json']);
    expect(add.code).toBe(1);
    expect(errorOf(add)).toMatchObject({ name: 'SchemaTooNewError', code: 'SCHEMA_TOO_NEW' });
    expect((await aimemo(['list', '--db', file])).code).toBe(0);
  });
});
