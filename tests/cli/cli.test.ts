/**
 * The `aimemo` CLI end to end: the built bin (dist/src/cli/main.js) run as a
 * child process, as `npx aimemo` runs it. Checks exit codes, parses `--json`
 * output, and runs transfer both ways with the PostgreSQL server when
 * AIMEMO_TEST_PG_URL is set (PGlite lives in-process, so a child cannot reach it;
 * without the server the transfer runs SQLite → SQLite and the skip is printed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMigrations } from '../../src/migrate/locate';
import { BIN, aimemo as run, errorOf, type Run } from '../helpers/cli';
import { requireBuild } from '../helpers/migrations';
import { PG_URL, createTestDatabase, reportSkip, type TestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';


const tmp = tempDir('cli');
const db = tmp.file('cli.db');

/** Runs the CLI in the test's directory (tests/helpers/cli.ts). */
const aimemo = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> => run(args, { cwd: tmp.dir, ...options });

/** Runs with --json and --db, expects exit code 0, returns the parsed stdout. */
async function json<T = any>(args: string[], where = db): Promise<T> {
  const r = await aimemo([...args, '--json', '--db', where]);
  if (r.code !== 0) throw new Error(`aimemo ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

let server: TestDatabase | undefined;
beforeAll(async () => {
  requireBuild();
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  if (PG_URL) server = await createTestDatabase('cli');
}, 60_000);
afterAll(async () => {
  await server?.drop();
  tmp.cleanup();
});

const COMMANDS = ['add', 'search', 'context', 'list', 'get', 'delete', 'clear', 'namespaces', 'stats', 'export', 'import', 'transfer', 'backup', 'optimize', 'migrate'];

describe('aimemo CLI', () => {
  it('has --help on every command (exit 0) and --version', async () => {
    const main = await aimemo(['--help']);
    expect(main.code).toBe(0);
    for (const command of COMMANDS) expect(main.stdout).toContain(command);
    const runs = await Promise.all(COMMANDS.map((c) => aimemo([c, '--help'])));
    runs.forEach((r, i) => {
      expect({ command: COMMANDS[i], code: r.code }).toEqual({ command: COMMANDS[i], code: 0 });
      expect(r.stdout).toContain(`Usage: aimemo ${COMMANDS[i]}`);
      expect(r.stdout).toContain('--db'); // the global options are listed as well
    });
    const version = await aimemo(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')).version);
  });

  it('migrates, then adds, searches, lists, gets and deletes with --json output', async () => {
    expect((await aimemo(['migrate', '--check', '--json', '--db', db])).code).toBe(1);
    expect(await json(['migrate'])).toMatchObject({ dialect: 'sqlite', before: null, applied: readMigrations('sqlite').map((m) => m.tag) });
    expect(await json(['migrate', '--check'])).toMatchObject({ upToDate: true, pending: [] });

    const added = await json(['add', 'User prefers dark mode in every editor', '-n', 'u1', '-t', 'pref,ui', '-m', '{"source":"chat"}', '--id', 'dark', '--timestamp', '2026-01-31T09:30:00Z']);
    expect(added).toEqual({ id: 'dark', namespace: 'u1', content: 'User prefers dark mode in every editor', tags: ['pref', 'ui'], metadata: { source: 'chat' }, timestamp: '2026-01-31T09:30:00.000Z' });
    const piped = await aimemo(['add', '-', '-n', 'u1', '--json', '--db', db], { input: 'The FastAPI project deploys with Docker\n' });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ content: 'The FastAPI project deploys with Docker', namespace: 'u1' });

    const hits = await json<{ id: string; score: number }[]>(['search', 'dark mode', '-n', 'u1']);
    expect(hits.map((h) => h.id)).toEqual(['dark']);
    expect(typeof hits[0].score).toBe('number');
    expect(await json(['search', 'dark OR docker', '-n', 'u1', '--mode', 'any', '--limit', '1'])).toHaveLength(1);
    expect(await json(['search', 'dark', '-n', 'u1', '-t', 'nope'])).toEqual([]);
    expect((await json(['context', 'what editor theme?', '-n', 'u1'])).context).toMatch(/^Relevant memories:\n- \[2026-01-31\] User prefers dark mode/);
    expect((await json<unknown[]>(['list', '-n', 'u1'])).length).toBe(2);
    expect(await json(['get', 'dark', '-n', 'u1'])).toMatchObject({ id: 'dark' });
    expect(await json(['namespaces'])).toEqual([{ namespace: 'u1', count: 2 }]);
    expect(await json(['stats'])).toMatchObject({ dialect: 'sqlite', totalMemories: 2, namespaces: 1, fileBytes: expect.any(Number) });

    const text = await aimemo(['search', 'dark', '-n', 'u1', '--db', db]);
    expect(text.stdout).toContain('dark  2026-01-31T09:30:00.000Z  #pref #ui');
    expect((await aimemo(['get', 'missing', '-n', 'u1', '--db', db])).code).toBe(1);
    expect(await json(['delete', 'dark', '-n', 'u1'])).toEqual({ id: 'dark', namespace: 'u1', deleted: true });
    expect((await aimemo(['delete', 'dark', '-n', 'u1', '--db', db])).code).toBe(1);
    expect((await aimemo(['clear', '-n', 'u1', '--db', db])).code).toBe(2); // needs --yes
    expect(await json(['clear', '-n', 'u1', '--yes'])).toEqual({ namespace: 'u1', removed: 1 });
  });

  it('filters with --where, --since and --until, pages with --page and --cursor, forgets with delete --where, expires with --ttl', async () => {
    const f = tmp.file('filters.db');
    const run = (args: string[]) => json(args, f);
    for (let i = 0; i < 5; i++) {
      await run(['add', `meeting note ${i}`, '-n', 'f', '--id', `n${i}`, '-m', JSON.stringify({ priority: i, project: i % 2 ? 'x' : 'y' }), '--timestamp', `2026-01-0${i + 1}T12:00:00Z`]);
    }
    const ids = (ms: { id: string }[]) => ms.map((m) => m.id);
    expect(ids(await run(['list', '-n', 'f', '--where', '{"priority":{"$gte":3}}']))).toEqual(['n4', 'n3']);
    expect(ids(await run(['list', '-n', 'f', '--since', '2026-01-02', '--until', '2026-01-04']))).toEqual(['n2', 'n1']);
    expect(ids(await run(['search', 'meeting', '-n', 'f', '-w', '{"project":"x"}', '--limit', '10']))).toEqual(expect.arrayContaining(['n1', 'n3']));
    expect(await run(['search', 'meeting', '-n', 'f', '--limit', '10', '--offset', '4'])).toHaveLength(1);

    const first = await run(['list', '-n', 'f', '--page', '--limit', '2']);
    expect(ids(first.memories)).toEqual(['n4', 'n3']);
    const second = await run(['list', '-n', 'f', '--cursor', first.cursor, '--limit', '2']);
    expect(ids(second.memories)).toEqual(['n2', 'n1']);
    const text = await aimemo(['list', '-n', 'f', '--cursor', second.cursor, '--limit', '2', '--db', f]);
    expect(text.stdout).toContain('n0');
    expect(text.stdout).toContain('(last page)');
    expect((await aimemo(['list', '-n', 'f', '--page', '--db', f])).stdout).toContain('(last page)');

    expect((await aimemo(['delete', '-n', 'f', '--where', '{"project":"x"}', '--db', f])).code).toBe(2); // needs --yes
    expect(await run(['delete', '-n', 'f', '--where', '{"project":"x"}', '--yes'])).toEqual({ namespace: 'f', deleted: 2 });
    expect(ids(await run(['list', '-n', 'f']))).toEqual(['n4', 'n2', 'n0']);
    expect((await aimemo(['delete', '-n', 'f', '--yes', '--db', f])).code).toBe(2); // no id and no filter

    const scratch = await run(['add', 'scratch note', '-n', 'f', '--ttl', '86400']);
    expect(new Date(scratch.expiresAt).getTime()).toBeGreaterThan(Date.now() + 86_000_000);

    for (const bad of [
      ['list', '-n', 'f', '--where', '{"priority":{"$gt":true}}'],
      ['list', '-n', 'f', '--where', 'not json'],
      ['list', '-n', 'f', '--since', 'yesterday'],
      ['list', '-n', 'f', '--offset', '1', '--page'],
      ['add', 'x', '--ttl', '0'],
    ]) {
      const r = await aimemo([...bad, '--db', f]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
    }
    const badCursor = await aimemo(['list', '-n', 'f', '--cursor', 'nonsense', '--json', '--db', f]);
    expect(badCursor.code).toBe(2);
    expect(errorOf(badCursor)).toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/^--cursor must be a cursor/) });
  });

  it('uses AIMEMO_DB when --db is not given', async () => {
    const r = await aimemo(['namespaces', '--json'], { env: { AIMEMO_DB: db } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expect.any(Array));
  });

  it('exports and imports JSON Lines (file and stdout), with progress as plain lines when not on a terminal', async () => {
    const seed = tmp.file('seed.jsonl');
    fs.writeFileSync(seed, Array.from({ length: 30 }, (_, i) => JSON.stringify({ namespace: 'exp', id: `e${i}`, content: `exported memory number ${i}` })).join('\n'));
    expect(await json(['import', seed])).toMatchObject({ imported: 30 });
    const file = tmp.file('exp.jsonl.gz');
    const r = await aimemo(['export', file, '-n', 'exp', '--json', '--db', db]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ count: 30, namespaces: [{ namespace: 'exp', count: 30 }], path: file });
    expect(r.stderr).toMatch(/^export: 30\/30 memories \(100%\)/m);

    const out = await aimemo(['export', '-', '-n', 'exp', '--db', db, '--quiet']);
    const lines = out.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ format: 'aimemo-jsonl', version: 2 });
    expect(lines).toHaveLength(31);
    expect(out.stderr).toMatch(/^exported 30 memories/); // the summary goes to stderr when stdout is the export

    const other = tmp.file('imported.db');
    expect(await json(['import', file, '--into', 'restored'], other)).toMatchObject({ imported: 30, rejected: 0, namespaces: [{ namespace: 'restored', count: 30 }] });
    const piped = await aimemo(['import', '-', '--json', '--db', other], { input: out.stdout });
    expect(JSON.parse(piped.stdout)).toMatchObject({ imported: 30, namespaces: [{ namespace: 'exp', count: 30 }] });
  });

  it('reports bad lines by number (exit 1, valid lines imported) and refuses a bad file', async () => {
    const file = tmp.file('bad.jsonl');
    fs.writeFileSync(
      file,
      [
        '{"format":"aimemo-jsonl","version":1}',
        '{"namespace":"bad","id":"ok1","content":"fine"}',
        '{"namespace":"bad","id":"x","content":""}',
        'not json',
        '{"namespace":"bad","id":"ok2","content":"fine too","timestamp":"yesterday"}',
        '{"namespace":"bad","id":"ok3","content":"also fine","tags":["a"]}',
      ].join('\n'),
    );
    const r = await aimemo(['import', file, '--json', '--db', db]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ imported: 2, rejected: 3 });
    expect(result.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5]);
    expect(errorOf(r).message).toMatch(/rejected/);
    const human = await aimemo(['import', file, '--db', db, '--dry-run']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('line 3: content must be a non-empty string; got an empty string');
    expect(human.stderr).toContain('line 5: timestamp must be an ISO 8601 date and time with a time zone');

    const notJsonl = tmp.file('notes.txt');
    fs.writeFileSync(notJsonl, 'just some notes\n');
    const bad = await aimemo(['import', notJsonl, '--json', '--db', db]);
    expect(bad.code).toBe(1);
    expect(errorOf(bad)).toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining('the first line is not JSON') });
    const missing = await aimemo(['import', tmp.file('missing.jsonl'), '--db', db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^aimemo: .*missing\.jsonl: cannot read/);
  });

  it('backs up a SQLite database, and points PostgreSQL users to pg_dump', async () => {
    const copy = tmp.file('backup.db');
    const r = await json(['backup', copy]);
    expect(r).toMatchObject({ path: copy, verified: true });
    const check = new Database(copy, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
    expect((await aimemo(['backup', copy, '--db', db])).code).toBe(1); // exists
    expect((await aimemo(['backup', copy, '--force', '--db', db])).code).toBe(0);
    const pg = await aimemo(['backup', tmp.file('pg.db'), '--db', 'postgres://nobody@127.0.0.1:1/none']);
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('pg_dump');
  });

  it('optimizes', async () => {
    const r = await json<{ dialect: string; steps: { step: string }[] }>(['optimize']);
    expect(r.dialect).toBe('sqlite');
    expect(r.steps.map((s) => s.step)).toContain('PRAGMA optimize');
  });

  it('fails clearly, with exit code 1, on an unreachable database or a bad file; 2 on bad usage (a malformed --db included)', async () => {
    const cases: [string[], number, RegExp][] = [
      [['stats', '--db', 'mysql://root@localhost/app'], 2, /--db must be a SQLite file path or a postgres:\/\/ URL; got a mysql:\/\/ URL/],
      [['stats', '--db', 'postgres://[oops'], 2, /--db must be a valid PostgreSQL URL/],
      [['stats', '--db', 'postgres://root@127.0.0.1:1/nothing', '--connect-timeout', '2'], 1, /cannot reach PostgreSQL at 127\.0\.0\.1:1\/nothing: ECONNREFUSED/],
      [['stats', '--db', tmp.file('nothing-here.db')], 1, /nothing-here\.db: no such database file/],
      [['search', 'x', '--db', tmp.file('notes.txt')], 1, /SQLITE_NOTADB/],
      [['transfer', '--from', db], 2, /required option '--to <db>' not specified/],
      [['search', '--db', db], 2, /missing required argument 'query'/],
      [['search', 'x', '--limit', '0', '--db', db], 2, /--limit <n>' argument '0' is invalid/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [[], 2, /Usage: aimemo/],
    ];
    fs.writeFileSync(tmp.file('notes.txt'), 'just some notes\n');
    const runs = await Promise.all(cases.map(([args]) => aimemo(args)));
    runs.forEach((r, i) => {
      const [args, code, message] = cases[i];
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    });
    const unreachable = await aimemo(['stats', '--json', '--db', 'postgres://root@127.0.0.1:1/nothing']);
    expect(errorOf(unreachable)).toMatchObject({ name: 'DatabaseUnavailableError', code: 'DATABASE_UNAVAILABLE' });
  });

  describe('transfer', () => {
    it('copies SQLite → PostgreSQL and back, verified, and writes nothing when run again', async () => {
      const seed = tmp.file('transfer-seed.jsonl');
      const lines = Array.from({ length: 25 }, (_, i) => ({ namespace: i % 2 ? 'odd' : 'even', id: `t${i}`, content: `transferred memory ${i}`, metadata: { i, b: { z: 1, a: 2 } } }));
      fs.writeFileSync(seed, lines.map((l) => JSON.stringify(l)).join('\n'));
      expect(await json(['import', seed])).toMatchObject({ imported: 25 });
      reportSkip('aimemo transfer to the PostgreSQL server');
      const middle = server?.url ?? tmp.file('middle.db');
      const back = tmp.file('back.db');
      const there = await json(['transfer', '--from', db, '--to', middle, '-n', 'odd', '-n', 'even', '--batch-size', '10'], db);
      expect(there).toMatchObject({ read: 25, written: 25, skipped: 0, verified: true });
      const again = await json(['transfer', '--from', db, '--to', middle, '-n', 'odd', '-n', 'even'], db);
      expect(again).toMatchObject({ written: 0, skipped: 25, verified: true });
      const home = await json(['transfer', '--from', middle, '--to', back, '-n', 'odd', '-n', 'even'], db);
      expect(home).toMatchObject({ read: 25, written: 25, verified: true });
      expect(home.namespaces.map((n: { destination: unknown; source: unknown }) => n.destination)).toEqual(there.namespaces.map((n: { source: unknown }) => n.source));
      if (server) {
        const stats = await json(['stats'], server.url);
        expect(stats).toMatchObject({ dialect: 'postgres', pool: { size: expect.any(Number), checkedOut: expect.any(Number) } });
        expect(await json(['optimize', '--vacuum'], server.url)).toMatchObject({ dialect: 'postgres', steps: expect.arrayContaining([expect.objectContaining({ step: 'VACUUM (ANALYZE) "aimemo"."memories"' })]) });
      }
    });
  });
});
