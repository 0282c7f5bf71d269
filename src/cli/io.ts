/**
 * What every command shares: global options, output (`--json` or text), and
 * turning errors into a message and an exit code, in the CLI's own words.
 *
 * Exit codes: 0 done; 1 the operation failed (unreachable database, bad file,
 * rejected import lines, failed verification); 2 bad usage (unknown command
 * or option, a missing argument, a value no command accepts: `--limit abc`,
 * `--mode maybe`, a blank content, a malformed `--db`). Under `--json` every
 * error, usage errors included, is one JSON object `{ error }` on stderr.
 *
 * Library errors speak the API (`options.mode`, `overwrite: true`,
 * `autoMigrate`); {@link cliMessage} says the same in CLI terms (`--mode`,
 * `--force`, `aimemo migrate`).
 */
import { AIMemoError, BadFileError, TransferVerificationError, ValidationError } from '../errors';

/** Options every command accepts. */
export interface GlobalOptions {
  db?: string;
  json?: boolean;
  quiet?: boolean;
  connectTimeout?: number;
}

/** Exit code for a failed operation. */
export const EXIT_FAILURE = 1;
/** Exit code for bad usage. */
export const EXIT_USAGE = 2;

/** The command being run (set by main.ts before its action), for wording that depends on it. */
export const context: { command: string } = { command: '' };

/** A failure the CLI itself detects, with a message for the user and optional data for `--json`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly data?: Record<string, unknown>,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Prints the result: JSON with `--json`, else the text `human` makes. `stream` is stdout unless stdout carries data (`export -`). */
export function output(opts: GlobalOptions, result: unknown, human: () => string, stream: NodeJS.WritableStream = process.stdout): void {
  const text = opts.json ? JSON.stringify(result, null, 2) : human();
  if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Stderr notes (not with --json or --quiet). */
export function note(opts: GlobalOptions, text: string): void {
  if (!opts.json && !opts.quiet) process.stderr.write(`${text}\n`);
}

/**
 * A library field as the CLI user wrote it: `options.mode` is `--mode`,
 * `tags[2]` is `--tags`, `content` is `<content>`. Undefined for fields no
 * option or argument sets.
 */
export function cliField(field: string): string | undefined {
  const name = field.replace(/^(options|memories\[\d+\])\./, '').replace(/\[\d+\].*$|\..*$/, '');
  const flags: Record<string, string> = {
    namespace: '--namespace',
    mode: '--mode',
    limit: '--limit',
    offset: '--offset',
    tags: '--tags',
    metadata: '--metadata',
    timestamp: '--timestamp',
    batchSize: '--batch-size',
    cursor: '--cursor',
    since: '--since',
    until: '--until',
    where: '--where',
    ttl: '--ttl',
    expiresAt: '--expires-at',
    content: '<content>',
    query: '<query>',
    id: context.command === 'add' ? '--id' : '<id>',
  };
  return field.startsWith('--') ? field : flags[name];
}

/**
 * Library phrases and what the CLI says instead. Errors from the library name
 * its options (`overwrite: true (CLI: --force)`); a new one that names an
 * option needs a line here (tests/cli/usage.test.ts checks the known ones).
 */
const CLI_WORDS: [RegExp, string][] = [
  [/overwrite: true \(CLI: (--[a-z-]+)\)/g, '$1'],
  [/ \(or create the store with autoMigrate: true\)/g, ''],
  [/\(with autoMigrate: false the store never creates one\)/g, '(`aimemo migrate --db <file>` creates one)'],
  [/open it with new SQLiteStore\(path, \{ readonly: true \}\)/g, 'use a command that only reads (search, list, get, export, stats, context), which opens the file read-only'],
];

/** An error's message in CLI terms: flags instead of API fields and options. */
export function cliMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof ValidationError) {
    const flag = cliField(error.field);
    if (flag && message.startsWith(error.field)) message = `${flag}${message.slice(error.field.length)}`;
  }
  for (const [phrase, replacement] of CLI_WORDS) message = message.replace(phrase, replacement);
  return message;
}

/** Exit code of an error: 2 for bad usage (a value given on the command line that nothing accepts), else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ValidationError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** The JSON form of an error, for `--json`. */
function errorJson(error: unknown): Record<string, unknown> {
  const message = cliMessage(error);
  if (error instanceof CliError) return { name: 'CliError', code: error.exitCode === EXIT_USAGE ? 'USAGE' : 'FAILED', message, ...(error.data ?? {}) };
  if (error instanceof AIMemoError) {
    const extra: Record<string, unknown> = {};
    if (error instanceof ValidationError) Object.assign(extra, { field: cliField(error.field) ?? error.field, rule: error.rule });
    if (error instanceof BadFileError) Object.assign(extra, { file: error.file, ...(error.line === undefined ? {} : { line: error.line }) });
    if (error instanceof TransferVerificationError) extra.mismatches = error.mismatches;
    return { name: error.name, code: error.code, message, ...extra };
  }
  const e = error as { name?: string; message?: string; code?: unknown };
  return { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : 'UNEXPECTED', message };
}

/** Prints a usage error commander found (unknown option, `--limit abc`, a missing argument) and returns 2. */
export function reportUsage(message: string, json: boolean): number {
  const text = message.replace(/^error: /, '').trim();
  if (json) process.stderr.write(`${JSON.stringify({ error: { name: 'UsageError', code: 'USAGE', message: text } })}\n`);
  else process.stderr.write(`aimemo: ${text}\n(run with --help for usage)\n`);
  return EXIT_USAGE;
}

/** Prints an error on stderr and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  const code = exitCodeOf(error);
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: errorJson(error) })}\n`);
    return code;
  }
  const known = error instanceof AIMemoError || error instanceof CliError;
  process.stderr.write(`aimemo: ${cliMessage(error)}\n`);
  if (code === EXIT_USAGE && !(error instanceof CliError)) process.stderr.write('(run with --help for usage)\n');
  if (!known) {
    if (process.env.AIMEMO_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    else process.stderr.write('(an unexpected error; set AIMEMO_DEBUG=1 to see where it came from)\n');
  }
  return code;
}

/** Seconds as `1.2 s` or `3 min 4 s`. */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Left-aligned columns. */
export function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/**
 * A search score as people read it: relative to the best result of the
 * list, as a percentage (`100%`, `87%`). Raw scores are only comparable
 * within one list, and are tiny numbers (`1.06e-6`); `--json` keeps them.
 */
export function relativeScore(score: number, best: number): string {
  if (!(best > 0) || !Number.isFinite(score)) return score.toPrecision(3);
  return `${Math.round((Math.max(score, 0) / best) * 100)}%`.padStart(4);
}

/** One memory as text: (score,) id, time, tags, then the content on the next line (shortened). `best`: the list's best score. */
export function formatMemory(m: { id: string; namespace: string; timestamp: Date; tags: string[]; content: string; score?: number }, full = false, best?: number): string {
  const score = m.score === undefined ? '' : `${relativeScore(m.score, best ?? m.score)}  `;
  const tags = m.tags.length ? `  ${m.tags.map((t) => `#${t}`).join(' ')}` : '';
  const text = m.content.replace(/\s+/g, ' ').trim();
  const content = full || text.length <= 200 ? text : `${text.slice(0, 199)}…`;
  return `${score}${m.id}  ${m.timestamp.toISOString()}${tags}\n    ${full ? m.content : content}`;
}
