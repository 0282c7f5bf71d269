/**
 * The packed package and apps that install it: `npm pack` of this repository,
 * apps made under the system temp dir that install the tarball, and child
 * processes run from those apps (never from this repository).
 *
 * Install speed: apps install with `--ignore-scripts` and, where they can,
 * `--offline` (npm's cache, filled when this repository was installed),
 * because better-sqlite3 builds from source here (about a minute). The only
 * script that matters is better-sqlite3's native build; its output,
 * `build/Release/better_sqlite3.node`, is copied from this repository's
 * node_modules after checking that both are the same better-sqlite3 version
 * (same Node, so same ABI). Otherwise it is rebuilt. (Copying the whole
 * better-sqlite3 folder into the app before `npm install` does not work: npm
 * keeps the folder but never installs its dependencies, `bindings`.)
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const REPO_MODULES = path.join(REPO, 'node_modules');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a process started by the app, not by this repository's npm:
 * `npx jest` sets npm_package_*, npm_lifecycle_*, npm_config_local_prefix=<repo>
 * and NODE_OPTIONS=--experimental-vm-modules, none of which an app would see.
 * npm's cache location and user config are kept (the offline install needs them).
 */
export function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (k.startsWith('npm_') && k !== 'npm_config_cache' && k !== 'npm_config_userconfig') continue;
    if (['node_options', 'init_cwd', 'database_url', 'aimemo_db_path', 'aimemo_dialect', 'ci'].includes(k)) continue;
    env[key] = value;
  }
  env.npm_config_update_notifier = 'false';
  return { ...env, ...extra };
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = appEnv(), timeout = 90_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function describeRun(cmd: string, args: string[], r: RunResult): string {
  return `${cmd} ${args.join(' ')} exited with ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Fails with the child's output when it did not exit with `code`. */
export function expectExit(r: RunResult, code: number, what: string): void {
  if (r.code !== code) throw new Error(`expected exit ${code}: ${describeRun(what, [], r)}`);
}

export async function mustRun(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv, timeout?: number): Promise<RunResult> {
  const r = await run(cmd, args, cwd, env, timeout);
  if (r.code !== 0) throw new Error(describeRun(cmd, args, r));
  return r;
}

/** The last line of stdout that is a JSON object: what the child scripts print. */
export function lastJson<T>(r: RunResult): T {
  const line = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`no JSON on stdout\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return JSON.parse(line) as T;
}

export function versionOf(nodeModules: string, pkg: string): string {
  return (JSON.parse(fs.readFileSync(path.join(nodeModules, pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface PackResult {
  filename: string;
  /** Absolute path of the tarball. */
  tarball: string;
  files: { path: string }[];
}

/** `npm pack` of this repository into `dir` (building first when dist/ is missing). */
export async function pack(dir: string): Promise<PackResult> {
  if (!fs.existsSync(path.join(REPO, 'dist', 'esm', 'src', 'index.js'))) {
    await mustRun('npm', ['run', 'build'], REPO, appEnv(), 180_000);
  }
  const r = await mustRun('npm', ['pack', '--json', '--pack-destination', dir], REPO);
  const packed = (JSON.parse(r.stdout) as Omit<PackResult, 'tarball'>[])[0];
  return { ...packed, tarball: path.join(dir, packed.filename) };
}

/**
 * Makes an app at `app` with this manifest and installs it (offline first,
 * then from the registry when `registry` allows), then puts better-sqlite3's
 * native addon in place. Returns where each step's time went.
 */
export async function installApp(app: string, manifest: Record<string, unknown>, options: { registry?: boolean } = {}): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ version: '1.0.0', private: true, ...manifest }, null, 2)}\n`);
  let t = Date.now();
  const installArgs = ['install', '--ignore-scripts', '--no-audit', '--no-fund'];
  const offline = await run('npm', [...installArgs, '--offline'], app);
  if (offline.code !== 0) {
    if (!options.registry) {
      // eslint-disable-next-line no-console
      console.warn(`packaging: offline install failed (npm cache incomplete?), retrying with --prefer-offline\n${offline.stderr}`);
    }
    await mustRun('npm', [...installArgs, '--prefer-offline'], app, appEnv(), 240_000);
  }
  timings.install = Date.now() - t;

  t = Date.now();
  const appModules = path.join(app, 'node_modules');
  const repoAddon = path.join(REPO_MODULES, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (versionOf(appModules, 'better-sqlite3') === versionOf(REPO_MODULES, 'better-sqlite3') && fs.existsSync(repoAddon)) {
    const release = path.join(appModules, 'better-sqlite3', 'build', 'Release');
    fs.mkdirSync(release, { recursive: true });
    fs.copyFileSync(repoAddon, path.join(release, 'better_sqlite3.node'));
  } else {
    // eslint-disable-next-line no-console
    console.warn('packaging: the app got another better-sqlite3 than this repository; building it (about a minute)');
    await mustRun('npm', ['rebuild', 'better-sqlite3'], app, appEnv(), 300_000);
  }
  timings.addon = Date.now() - t;
  return timings;
}

/** TypeScript's compiler of this repository, run on an app's tsconfig (the app installs no TypeScript of its own). */
export const TSC = path.join(REPO_MODULES, 'typescript', 'bin', 'tsc');
