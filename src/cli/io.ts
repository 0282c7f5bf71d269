/**
 * What every command shares: global options, output (`--json` or text), and
 * turning errors into a message and an exit code.
 *
 * Exit codes: 0 done; 1 the operation failed (bad database URL, unreachable
 * database, bad file, rejected import lines, failed verification); 2 bad usage
 * (unknown command or option, missing or malformed argument).
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

/** The JSON form of an error, for `--json`. */
function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof CliError) return { name: 'CliError', code: 'FAILED', message: error.message, ...(error.data ?? {}) };
  if (error instanceof AIMemoError) {
    const extra: Record<string, unknown> = {};
    if (error instanceof ValidationError) Object.assign(extra, { field: error.field, rule: error.rule });
    if (error instanceof BadFileError) Object.assign(extra, { file: error.file, ...(error.line === undefined ? {} : { line: error.line }) });
    if (error instanceof TransferVerificationError) extra.mismatches = error.mismatches;
    return { name: error.name, code: error.code, message: error.message, ...extra };
  }
  const e = error as { name?: string; message?: string; code?: unknown };
  return { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : 'UNEXPECTED', message: e?.message ?? String(error) };
}

/** Prints an error on stderr and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  const code = error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: errorJson(error) })}\n`);
    return code;
  }
  const known = error instanceof AIMemoError || error instanceof CliError;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`aimemo: ${message}\n`);
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

/** One memory as text: id, time, tags, then the content on the next line (shortened). */
export function formatMemory(m: { id: string; namespace: string; timestamp: Date; tags: string[]; content: string; score?: number }, full = false): string {
  const score = m.score === undefined ? '' : `${m.score.toPrecision(3)}  `;
  const tags = m.tags.length ? `  ${m.tags.map((t) => `#${t}`).join(' ')}` : '';
  const text = m.content.replace(/\s+/g, ' ').trim();
  const content = full || text.length <= 200 ? text : `${text.slice(0, 199)}…`;
  return `${score}${m.id}  ${m.timestamp.toISOString()}${tags}\n    ${full ? m.content : content}`;
}
