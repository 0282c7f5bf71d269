#!/usr/bin/env node
/**
 * CI checks of migrations/sqlite and migrations/postgres (`npm run db:check`).
 *
 * For each dialect:
 *   journal     `when` values strictly increase. drizzle's migrator (ours and
 *               `drizzle-kit migrate`) applies only entries newer than the newest
 *               applied row, so an entry dated before an earlier one is skipped
 *               silently on every database that already has the earlier one.
 *   files       every journal entry has its .sql file and snapshot, and every
 *               .sql file is in the journal (a file outside it never runs).
 *   generate    `drizzle-kit generate` creates nothing: drizzle/<dialect>.ts and
 *               the migrations agree. It runs on a temporary copy of the
 *               repository's config, schema and migrations, never in migrations/.
 *   kit check   `drizzle-kit check`: the snapshots form one consistent history.
 * For SQLite:
 *   fts repair  a migration that recreates `memories` (drizzle-kit does so for
 *               changes SQLite cannot ALTER; the FTS triggers are dropped with the
 *               old table) is followed, in the same file or a later one, by the
 *               three CREATE TRIGGER statements of 0002_fts5-namespace.sql and
 *               INSERT INTO memories_fts(memories_fts) VALUES ('rebuild').
 *   generated   no migration copies rows into the generated column `fts_ns`:
 *               drizzle-kit 0.31 lists it in the INSERT … SELECT of a table
 *               recreate (drizzle-orm #5241), which SQLite refuses ("cannot
 *               INSERT into generated column"); remove it from both lists.
 *
 * Prints one line per check passed; on a failure, what is wrong, and exits 1.
 *
 *   node scripts/check-migrations.js [repository root]   (default: the one holding this script)
 *
 * The checks are exported for tests: require('./scripts/check-migrations.js').
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DIALECTS = ['sqlite', 'postgres'];
const JOURNAL_DIALECT = { sqlite: 'sqlite', postgres: 'postgresql' };
const FTS_TRIGGERS = ['memories_fts_ai', 'memories_fts_ad', 'memories_fts_au'];
/** The search index's triggers (0003_search-index), also dropped with the old table. */
const INDEX_TRIGGERS = ['memories_index_ai', 'memories_index_ad', 'memories_index_au'];

function readJournal(folder) {
  const file = path.join(folder, 'meta', '_journal.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Problems with the order of the journal (empty when fine). */
function checkJournalOrder(folder, dialect) {
  const problems = [];
  const journal = readJournal(folder);
  if (dialect && journal.dialect !== JOURNAL_DIALECT[dialect]) {
    problems.push(`the journal says dialect '${journal.dialect}'; expected '${JOURNAL_DIALECT[dialect]}'`);
  }
  const entries = journal.entries || [];
  if (entries.length === 0) problems.push('the journal has no entries');
  entries.forEach((entry, i) => {
    if (!Number.isSafeInteger(entry.when)) problems.push(`${entry.tag}: 'when' is not an integer (${JSON.stringify(entry.when)})`);
    else if (i > 0 && !(entry.when > entries[i - 1].when)) {
      problems.push(
        `${entry.tag}: 'when' ${entry.when} (${new Date(entry.when).toISOString()}) is not after ${entries[i - 1].tag}'s ` +
          `${entries[i - 1].when}; drizzle would never apply it to a database that has ${entries[i - 1].tag}`,
      );
    }
    if (entry.idx !== i) problems.push(`${entry.tag}: idx is ${entry.idx}; expected ${i}`);
  });
  return problems;
}

/** Problems between the journal and the files of the folder. */
function checkFiles(folder) {
  const problems = [];
  const entries = readJournal(folder).entries || [];
  const tags = new Set(entries.map((e) => e.tag));
  for (const entry of entries) {
    if (!fs.existsSync(path.join(folder, `${entry.tag}.sql`))) problems.push(`${entry.tag}: the journal lists it but ${entry.tag}.sql is missing`);
    const snapshot = `${entry.tag.split('_')[0]}_snapshot.json`;
    if (!fs.existsSync(path.join(folder, 'meta', snapshot))) problems.push(`${entry.tag}: meta/${snapshot} is missing (drizzle-kit generate diffs against it)`);
  }
  for (const name of fs.readdirSync(folder)) {
    if (name.endsWith('.sql') && !tags.has(name.slice(0, -4))) problems.push(`${name} is not in meta/_journal.json, so no migrator will ever run it`);
  }
  return problems;
}

/** SQL without comments, so that prose about dropping tables does not count. */
function stripComments(sql) {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
}

const RECREATES_MEMORIES = /__new_memories\b|\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?[`"[]?memories[`"\]]?(?![\w$])/gi;

/** SQLite: every migration that recreates `memories` must be followed by the FTS repair. */
function checkFtsRepair(folder) {
  const problems = [];
  const entries = readJournal(folder).entries || [];
  const sql = entries.map((e) => {
    const file = path.join(folder, `${e.tag}.sql`);
    return fs.existsSync(file) ? stripComments(fs.readFileSync(file, 'utf8')) : '';
  });
  entries.forEach((entry, i) => {
    RECREATES_MEMORIES.lastIndex = 0;
    const match = RECREATES_MEMORIES.exec(sql[i]);
    if (!match) return;
    const after = [sql[i].slice(match.index), ...sql.slice(i + 1)].join('\n');
    // Once the search index exists (0003_search-index), its triggers go with the old table too.
    const indexed = sql.slice(0, i + 1).some((t) => /memories_pending/.test(t));
    const missing = [...FTS_TRIGGERS, ...(indexed ? INDEX_TRIGGERS : [])].filter(
      (t) => !new RegExp(`CREATE\\s+TRIGGER\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?[\`"[]?${t}[\`"\\]]?\\s`, 'i').test(after),
    );
    if (!/INSERT\s+INTO\s+[`"[]?memories_fts[`"\]]?\s*\(\s*[`"[]?memories_fts[`"\]]?\s*\)\s*VALUES\s*\(\s*'rebuild'\s*\)/i.test(after)) {
      missing.push(`INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')`);
    }
    // The recreate may renumber rids: the search index must take every memory again.
    if (indexed && !/INSERT\s+OR\s+IGNORE\s+INTO\s+[`"[]?memories_pending[`"\]]?[^;]*SELECT\s+rid\s+FROM\s+[`"[]?memories[`"\]]?\s*;/i.test(after)) {
      missing.push('INSERT OR IGNORE INTO memories_pending (rid) SELECT rid FROM memories');
    }
    if (missing.length > 0) {
      problems.push(
        `${entry.tag} recreates the memories table (${match[0].replace(/\s+/g, ' ')}), which drops the FTS triggers, ` +
          `but neither it nor a later migration has ${missing.join(', ')}. Add a custom migration after it ` +
          `(npm run db:generate:sqlite -- --custom --name fts5-repair) with the three CREATE TRIGGER statements ` +
          `of 0002_fts5-namespace.sql, the rebuild, the three of 0003_search-index.sql and the requeue of every rid ` +
          `(docs/development.md has the recipe).`,
      );
    }
  });
  return problems;
}

/** SQLite: no INSERT names the generated column fts_ns (drizzle-kit's table recreate does: drizzle-orm #5241). */
function checkGeneratedColumns(folder) {
  const problems = [];
  for (const entry of readJournal(folder).entries || []) {
    const file = path.join(folder, `${entry.tag}.sql`);
    if (!fs.existsSync(file)) continue;
    for (const statement of stripComments(fs.readFileSync(file, 'utf8')).split('--> statement-breakpoint')) {
      if (/^\s*INSERT\s+INTO\s+[`"[]?__new_memories\b/i.test(statement) && /[`"[]fts_ns[`"\]]/.test(statement)) {
        problems.push(
          `${entry.tag} copies rows into the generated column fts_ns (drizzle-kit's table recreate, drizzle-orm #5241); ` +
            `SQLite refuses it ("cannot INSERT into generated column"). Remove "fts_ns" from the INSERT's column list and from its SELECT.`,
        );
      }
    }
  }
  return problems;
}

function drizzleKitBin(root) {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'node_modules', 'drizzle-kit', 'package.json');
    if (fs.existsSync(manifest)) {
      const { bin } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin['drizzle-kit']);
    }
    if (path.dirname(dir) === dir) throw new Error(`drizzle-kit is not installed under ${root}: run npm install`);
  }
}

/**
 * A throwaway copy of what drizzle-kit reads (config, schema, migrations),
 * with node_modules linked, so drizzle-kit runs with the repository's own
 * config but can write nothing into the repository.
 */
function mirror(root) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-db-check-'));
  for (const entry of ['drizzle.config.ts', 'package.json', 'tsconfig.json', 'drizzle', 'migrations']) {
    const from = path.join(root, entry);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, entry), { recursive: true });
  }
  let modules = root;
  while (!fs.existsSync(path.join(modules, 'node_modules')) && path.dirname(modules) !== modules) modules = path.dirname(modules);
  fs.symlinkSync(path.join(modules, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function listFiles(dir, prefix = '') {
  if (!fs.existsSync(dir)) return new Map();
  const files = new Map();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) for (const [k, v] of listFiles(path.join(dir, entry.name), rel)) files.set(k, v);
    else files.set(rel, fs.readFileSync(path.join(dir, entry.name), 'utf8'));
  }
  return files;
}

function runKit(root, dir, dialect, args) {
  const env = { ...process.env, AIMEMO_DIALECT: dialect };
  delete env.DATABASE_URL;
  const result = spawnSync(process.execPath, [drizzleKitBin(root), ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  const output = `${result.stdout || ''}${result.stderr || ''}`.trim();
  return { status: result.status, error: result.error, output };
}

function kitFailure(what, dialect, run) {
  if (run.error && run.error.code === 'ETIMEDOUT') {
    return `drizzle-kit ${what} did not finish (it may be asking an interactive question); run npm run db:generate:${dialect} to see it`;
  }
  return `drizzle-kit ${what} failed (exit ${run.status}${run.error ? `, ${run.error.message}` : ''}):\n${indent(run.output)}`;
}

/** `drizzle-kit generate` on a copy: problems if it would write anything. */
function checkGenerate(root, dialect) {
  const dir = mirror(root);
  try {
    const out = path.join(dir, 'migrations', dialect);
    const before = listFiles(out);
    const run = runKit(root, dir, dialect, ['generate']);
    if (run.status !== 0) return [kitFailure('generate', dialect, run)];
    const after = listFiles(out);
    const changed = [...after.keys()].filter((f) => before.get(f) !== after.get(f));
    if (changed.length === 0) return [];
    const sql = changed.filter((f) => f.endsWith('.sql')).map((f) => `${f}:\n${indent(after.get(f))}`);
    return [
      `drizzle/${dialect}.ts and migrations/${dialect} disagree: drizzle-kit generate would write ${changed.join(', ')}. ` +
        `Run npm run db:generate:${dialect} -- --name <what changed> and commit the migration` +
        (sql.length ? `; it would contain\n${sql.join('\n')}` : ''),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `drizzle-kit check` (snapshot history), on a copy as well. */
function checkKit(root, dialect) {
  const dir = mirror(root);
  try {
    const run = runKit(root, dir, dialect, ['check']);
    return run.status === 0 ? [] : [kitFailure('check', dialect, run)];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function indent(text) {
  return String(text)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** Runs every check; returns { passed: string[], failed: { name, problems }[] }. */
function runChecks(root, log = () => undefined) {
  const passed = [];
  const failed = [];
  for (const dialect of DIALECTS) {
    const folder = path.join(root, 'migrations', dialect);
    const checks = [
      ['journal `when` values strictly increase', () => checkJournalOrder(folder, dialect)],
      ['every journal entry has its .sql file and snapshot, every .sql file is in the journal', () => checkFiles(folder)],
      ...(dialect === 'sqlite'
        ? [
            ['every migration that recreates memories is followed by the FTS trigger repair', () => checkFtsRepair(folder)],
            ['no migration inserts into the generated column fts_ns', () => checkGeneratedColumns(folder)],
          ]
        : []),
      [`drizzle-kit generate creates nothing (drizzle/${dialect}.ts matches the migrations)`, () => checkGenerate(root, dialect)],
      ['drizzle-kit check: consistent snapshot history', () => checkKit(root, dialect)],
    ];
    for (const [title, check] of checks) {
      const name = `${dialect}: ${title}`;
      let problems;
      try {
        problems = check();
      } catch (error) {
        problems = [error && error.message ? error.message : String(error)];
      }
      if (problems.length === 0) {
        passed.push(name);
        log(`ok   ${name}`);
      } else {
        failed.push({ name, problems });
        log(`FAIL ${name}\n${problems.map((p) => indent(`- ${p}`)).join('\n')}`);
      }
    }
  }
  return { passed, failed };
}

module.exports = { checkJournalOrder, checkFiles, checkFtsRepair, checkGeneratedColumns, checkGenerate, checkKit, runChecks };

if (require.main === module) {
  const root = path.resolve(process.argv[2] || path.join(__dirname, '..'));
  const { passed, failed } = runChecks(root, (line) => console.log(line));
  if (failed.length > 0) {
    console.error(`\ndb:check failed: ${failed.length} of ${passed.length + failed.length} checks (${failed.map((f) => f.name).join('; ')})`);
    process.exit(1);
  }
  console.log(`db:check: all ${passed.length} checks passed`);
}
