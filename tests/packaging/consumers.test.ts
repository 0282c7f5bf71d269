/**
 * Issue 12.1-3: typed apps, as their authors set them up, on the packed package.
 *
 * For the oldest and the newest drizzle-orm the peer range admits (read from
 * package.json), an app installs the tarball with that drizzle-orm, better-sqlite3
 * and @types/node, and nothing else: no `postgres`, no PGlite (optional peers).
 * It holds the same program three times, one folder each:
 *
 * - `esm/`: `"type": "module"`, `module`/`moduleResolution: "nodenext"`;
 * - `cjs/`: `"type": "commonjs"`, `nodenext`;
 * - `bundler/`: `"type": "module"`, `module: "esnext"`, `moduleResolution: "bundler"`.
 *
 * The program defines its own Drizzle table, passes its own Drizzle database
 * to `SQLiteStore` (TS2345 when the package's types saw another drizzle-orm),
 * joins AIMemo's `memories` with its table (TS2322/TS2769), names the
 * PostgreSQL types without `postgres` installed (TS2307 with skipLibCheck
 * false), then checks at run time that the class it imported is the one the
 * other module system loads. Each folder is type-checked with `skipLibCheck:
 * false`, compiled and run.
 *
 * The oldest release comes from the npm registry (the newest is in npm's cache);
 * without a registry the oldest is skipped with the reason printed, unless
 * AIMEMO_REQUIRE_REGISTRY=1 (CI) makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, REPO_MODULES, TSC, appEnv, installApp, lastJson, mustRun, pack, run, versionOf, type PackResult } from '../helpers/pack';

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
const range = manifest.peerDependencies['drizzle-orm'];
/** The range's lower bound (`>=0.44.0 <0.46.0` → 0.44.0). */
const oldest = /^>=\s*(\d+\.\d+\.\d+)/.exec(range)?.[1];
const newest = versionOf(REPO_MODULES, 'drizzle-orm');

/** The program, written once; `{{main}}` wraps it for CommonJS (no top-level await). */
const PROGRAM = `
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { AIMemo, AIMemoError, PostgresStore, SQLiteStore, ValidationError, type Memory, type PostgresStoreOptions, type SearchResult } from 'aimemo';
import { memories } from 'aimemo/drizzle/sqlite';
import { memories as pgMemories } from 'aimemo/drizzle/postgres';

// The app's own table, next to AIMemo's.
const users = sqliteTable('users', { id: text('id').primaryKey(), name: text('name').notNull() });

// PostgreSQL types, named without the optional 'postgres' package installed.
const pgOptions: PostgresStoreOptions = { poolSize: 2, ssl: 'require', autoMigrate: false };
const makePg: (url: string) => PostgresStore = (url) => new PostgresStore(url, pgOptions);
const pgColumns: string[] = Object.keys(pgMemories);

async function main(other: () => Promise<{ AIMemoError: unknown; memories: unknown }>): Promise<void> {
  const client = new Database(process.env.DB_FILE as string);
  client.exec('CREATE TABLE IF NOT EXISTS users (id text PRIMARY KEY, name text NOT NULL)');
  const db = drizzle({ client });
  const store = new SQLiteStore(db); // the app's Drizzle database
  const memo = new AIMemo({ store, namespace: 'user_1' });
  const saved: Memory = await memo.add('Ada prefers TypeScript and strict mode', { tags: ['lang'] });
  const hits: SearchResult[] = await memo.search('typescript');
  db.insert(users).values({ id: 'user_1', name: 'Ada' }).run();
  const joined: { name: string; content: string }[] = db
    .select({ name: users.name, content: memories.content })
    .from(memories)
    .innerJoin(users, eq(users.id, memories.namespace))
    .all();
  let error: unknown;
  try {
    await store.save({ content: '' });
  } catch (e) {
    error = e;
  }
  const loaded = await other();
  await store.close();
  client.close();
  console.log(JSON.stringify({
    saved: saved.id,
    hits: hits.map((h) => h.id),
    joined,
    validation: error instanceof ValidationError && error instanceof AIMemoError,
    sameErrorClass: loaded.AIMemoError === AIMemoError,
    sameTable: loaded.memories === memories,
    pg: typeof makePg,
    pgColumns: pgColumns.length > 0,
  }));
}
`;

/** ESM: the other module system is require(). */
const ESM_MAIN = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
await main(async () => ({ AIMemoError: require('aimemo').AIMemoError, memories: require('aimemo/drizzle/sqlite').memories }));
`;

/** CommonJS: the other module system is import(). */
const CJS_MAIN = `
main(async () => {
  const esm = await import('aimemo');
  const tables = await import('aimemo/drizzle/sqlite');
  return { AIMemoError: esm.AIMemoError, memories: tables.memories };
}).catch((e) => {
  console.error(e);
  process.exit(1);
});
`;

const STRICT = { strict: true, skipLibCheck: false, types: ['node'], target: 'ES2022', lib: ['ES2022'], outDir: 'out', rootDir: '.', esModuleInterop: true };

const FLAVOURS = {
  esm: { type: 'module', compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' }, main: ESM_MAIN },
  cjs: { type: 'commonjs', compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' }, main: CJS_MAIN },
  bundler: { type: 'module', compilerOptions: { ...STRICT, module: 'esnext', moduleResolution: 'bundler' }, main: ESM_MAIN },
} as const;

interface Output {
  saved: string;
  hits: string[];
  joined: { name: string; content: string }[];
  validation: boolean;
  sameErrorClass: boolean;
  sameTable: boolean;
  pg: string;
  pgColumns: boolean;
}

/**
 * tsc's errors in the app or in AIMemo's declarations. drizzle-orm's own
 * declarations do not pass `skipLibCheck: false` (they import mysql2, the
 * Neon and PlanetScale clients… and have errors of their own, with or without
 * AIMemo), so their errors are left out: what is checked is that AIMemo's
 * types and the app's use of them are clean.
 */
function ownErrors(output: string): string[] {
  const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
  return errors.filter((line) => !/^\.\.\/node_modules\//.test(line) || line.startsWith('../node_modules/aimemo/'));
}

const registryRequired = process.env.AIMEMO_REQUIRE_REGISTRY === '1';

describe('typed apps on the packed package (ESM nodenext, CJS nodenext, bundler), skipLibCheck false, without postgres', () => {
  let tmp: string;
  let packed: PackResult;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-consumers-'));
    packed = await pack(tmp);
  }, 300_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('declares drizzle-orm as a peer with a lower bound, and develops against its newest release', () => {
    expect(oldest).toMatch(/^\d+\.\d+\.\d+$/);
    expect((manifest as { dependencies?: Record<string, string> }).dependencies?.['drizzle-orm']).toBeUndefined();
  });

  const versions: [string, string | undefined][] = [
    ['newest', newest],
    ['oldest', oldest],
  ];

  describe.each(versions)('drizzle-orm %s supported (%s)', (which, version) => {
    let app: string;
    let installError: Error | undefined;

    beforeAll(async () => {
      app = path.join(tmp, `app-${which}`);
      try {
        await installApp(
          app,
          {
            name: `aimemo-typed-app-${which}`,
            dependencies: {
              aimemo: `file:${packed.tarball}`,
              'drizzle-orm': version!,
              'better-sqlite3': versionOf(REPO_MODULES, 'better-sqlite3'),
              '@types/node': versionOf(REPO_MODULES, '@types/node'),
            },
          },
          { registry: which === 'oldest' },
        );
      } catch (error) {
        if (which === 'newest' || registryRequired) throw error;
        installError = error as Error;
        // eslint-disable-next-line no-console
        console.warn(`packaging: drizzle-orm ${version} could not be installed (no npm registry?); its consumer checks are skipped:\n${installError.message.slice(0, 500)}`);
        return;
      }
      for (const [name, flavour] of Object.entries(FLAVOURS)) {
        const dir = path.join(app, name);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: flavour.type }));
        fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: flavour.compilerOptions, include: ['app.ts'] }, null, 2));
        fs.writeFileSync(path.join(dir, 'app.ts'), `${PROGRAM}\n${flavour.main}`);
      }
    }, 600_000);

    it('installs with the peer range satisfied and one drizzle-orm in the tree', async () => {
      if (installError) return;
      expect(versionOf(path.join(app, 'node_modules'), 'drizzle-orm')).toBe(version);
      expect(fs.existsSync(path.join(app, 'node_modules', 'aimemo', 'node_modules', 'drizzle-orm'))).toBe(false);
      expect(fs.existsSync(path.join(app, 'node_modules', 'postgres'))).toBe(false);
      await mustRun('npm', ['ls', 'drizzle-orm'], app);
    });

    it.each(Object.keys(FLAVOURS))('%s: type-checks with skipLibCheck false, compiles and runs', async (name) => {
      if (installError) return;
      const dir = path.join(app, name);
      const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], dir);
      expect({ flavour: name, errors: ownErrors(tsc.stdout + tsc.stderr) }).toEqual({ flavour: name, errors: [] });
      expect(fs.existsSync(path.join(dir, 'out', 'app.js'))).toBe(true);
      const r = await mustRun(process.execPath, ['out/app.js'], dir, appEnv({ DB_FILE: path.join(dir, 'app.db') }), 60_000).catch((e: Error) => {
        throw new Error(`${name}: ${e.message}`);
      });
      const out = lastJson<Output>(r);
      expect(out.hits).toEqual([out.saved]);
      expect(out.joined).toEqual([{ name: 'Ada', content: 'Ada prefers TypeScript and strict mode' }]);
      expect(out).toMatchObject({ validation: true, sameErrorClass: true, sameTable: true, pg: 'function', pgColumns: true });
    }, 120_000);
  });
});
