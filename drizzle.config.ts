/**
 * drizzle-kit configuration for AIMemo's own tables.
 *
 *   DATABASE_URL=postgres://u:p@host/db npx drizzle-kit migrate --config node_modules/aimemo/drizzle.config.ts
 *   DATABASE_URL=./data/aimemo.db npx drizzle-kit migrate --config node_modules/aimemo/drizzle.config.ts
 *
 * The dialect comes from `AIMEMO_DIALECT` (`sqlite` | `postgres`) or else from
 * `DATABASE_URL`: `postgres://` / `postgresql://` means PostgreSQL, anything
 * else (a file path or a `file:` URL) means SQLite; `AIMEMO_DB_PATH` names a
 * SQLite file too. Commands that open a database (`migrate`, `push`, `pull`,
 * `studio`) need one of them: a deploy pipeline whose secret is missing
 * stops here instead of migrating a new ./aimemo.db and reporting success.
 *
 * Before such a command runs on PostgreSQL the database is tried once, so an
 * unreachable server, a wrong password or a missing database is one line on
 * stderr and exit code 1 (drizzle-kit itself exits 1 and prints nothing).
 * Notices (`schema "aimemo" already exists, skipping`, which drizzle-kit
 * prints as an object that looks like an error) are turned off with
 * `client_min_messages=warning` on the connection.
 *
 * Paths are resolved from this file, so the shipped copy works from any directory.
 * Migrations are recorded in `__aimemo_migrations` (schema `aimemo` on
 * PostgreSQL), never in the `__drizzle_migrations` table an app may share.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from 'drizzle-kit';

/** Stops drizzle-kit with one line on stderr. */
function fail(message: string): never {
  process.stderr.write(`aimemo drizzle.config.ts: ${message}\n`);
  process.exit(1);
}

/** The drizzle-kit command being run (`migrate`, `generate`, …): the first argument that is not an option. */
const command = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
/** Commands that open the database; `generate`, `check`, `up` and `export` only read files. */
const opensDatabase = ['migrate', 'push', 'pull', 'introspect', 'studio'].includes(command);

const url = process.env.DATABASE_URL?.trim() || undefined;
const isPostgresUrl = (u: string | undefined) => !!u && /^postgres(ql)?:\/\//i.test(u);
const choice = process.env.AIMEMO_DIALECT?.trim() || (isPostgresUrl(url) ? 'postgres' : 'sqlite'); // empty means unset, as CI variables often are
if (choice !== 'sqlite' && choice !== 'postgres') fail(`AIMEMO_DIALECT must be 'sqlite' or 'postgres'; got '${choice}'`);

// drizzle-kit prefixes `./` to some paths, so absolute paths break `generate`:
// give it paths relative to the working directory, computed from this file.
const here = (...parts: string[]) => path.relative(process.cwd(), path.join(__dirname, ...parts)) || '.';

/** The SQLite file to open: DATABASE_URL, else AIMEMO_DB_PATH. */
function sqliteFile(): string {
  const value = url ?? process.env.AIMEMO_DB_PATH?.trim();
  if (!value) {
    if (opensDatabase) fail(`set DATABASE_URL (a postgres:// URL or a SQLite file path) or AIMEMO_DB_PATH before \`drizzle-kit ${command}\`; refusing to guess ./aimemo.db`);
    return './aimemo.db'; // generate/check never open it
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (scheme && scheme.toLowerCase() !== 'file') {
    fail(`AIMEMO_DIALECT=sqlite needs a SQLite file path in DATABASE_URL; got a ${scheme}:// URL (unset AIMEMO_DIALECT for PostgreSQL)`);
  }
  const file = value.replace(/^file:(\/\/)?/, '');
  if (opensDatabase && !fs.existsSync(path.dirname(path.resolve(file)))) fail(`the directory of the SQLite file ${file} does not exist`);
  return file;
}

/** A password with URL delimiters in it, not percent-encoded, makes the URL point elsewhere: say so when it may have. */
function encodingHint(raw: string): string {
  return /@[^/]*@|#/.test(raw) ? '; if the password holds @ : / ? # [ ] % or spaces, percent-encode it (encodeURIComponent)' : '';
}

/** Where a URL points, for messages: never the password. */
function where(u: URL): string {
  return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
}

/** The PostgreSQL URL, checked, with notices turned off. */
function postgresUrl(): string {
  if (!url) {
    if (opensDatabase) fail(`set DATABASE_URL to a postgres:// URL before \`drizzle-kit ${command}\``);
    return '';
  }
  if (!isPostgresUrl(url)) fail(`AIMEMO_DIALECT=postgres needs a postgres:// or postgresql:// URL in DATABASE_URL; got something else`);
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (!parsed.hostname) throw new Error('no host');
  } catch {
    fail('DATABASE_URL is not a valid URL; if the password holds @ : / ? # [ ] % or spaces, percent-encode it (encodeURIComponent)');
  }
  const options = parsed.searchParams.get('options') ?? '';
  if (!/client_min_messages/.test(options)) parsed.searchParams.set('options', `${options} -c client_min_messages=warning`.trim());
  if (opensDatabase) probe(parsed);
  return parsed.toString();
}

/**
 * Connects once with postgres.js (the driver the app installed for
 * drizzle-kit), in a child process because this file must return its config
 * synchronously; fails with the driver's reason.
 */
function probe(u: URL): void {
  const script = `
    const { createRequire } = require('node:module');
    let postgres;
    for (const base of [process.cwd(), process.env.AIMEMO_CONFIG_DIR]) {
      try { postgres = createRequire(base + '/')('postgres'); break; } catch {}
    }
    if (!postgres) process.exit(0); // another driver (pg): let drizzle-kit report
    const sql = postgres(process.env.AIMEMO_PROBE_URL, { max: 1, connect_timeout: 10, onnotice: () => undefined });
    sql\`SELECT 1\`.then(
      () => sql.end().then(() => process.exit(0)),
      (e) => { process.stderr.write(String((e && (e.message || e.code)) || e)); sql.end({ timeout: 0 }).finally(() => process.exit(2)); },
    );`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, AIMEMO_PROBE_URL: u.toString(), AIMEMO_CONFIG_DIR: __dirname, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status === 0) return;
  const reason = (r.stderr || (r.error ? r.error.message : `exit ${r.status}`)).trim().split('\n')[0].split(u.password || '\u0000').join('***');
  fail(`cannot connect to PostgreSQL at ${where(u)}: ${reason}${encodingHint(url ?? '')}`);
}

const config: Config =
  choice === 'postgres'
    ? {
        dialect: 'postgresql',
        schema: here('drizzle', 'postgres.ts'),
        out: here('migrations', 'postgres'),
        schemaFilter: ['aimemo'],
        dbCredentials: { url: postgresUrl() },
        migrations: { table: '__aimemo_migrations', schema: 'aimemo' },
      }
    : {
        dialect: 'sqlite',
        schema: here('drizzle', 'sqlite.ts'),
        out: here('migrations', 'sqlite'),
        tablesFilter: ['memories'],
        dbCredentials: { url: sqliteFile() },
        migrations: { table: '__aimemo_migrations' },
      };

export default config;
