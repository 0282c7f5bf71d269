#!/usr/bin/env node
/**
 * `aimemo`: look inside a memory store from a terminal, and run its
 * operations (export, import, transfer, backup, optimize, migrate).
 *
 *   npx aimemo --help
 *   npx aimemo <command> --help
 *
 * Every command takes `--db` (a SQLite path or a postgres:// URL; default
 * `AIMEMO_DB`, then `AIMEMO_DB_PATH`, then ./aimemo.db), `--json` (one JSON
 * document on stdout) and `--quiet` (no progress on stderr).
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../migrate/locate';
import { register as add } from './add';
import { register as backup } from './backup';
import { register as clear } from './clear';
import { register as context } from './context';
import { register as del } from './delete';
import { register as exportCommand } from './export';
import { register as get } from './get';
import { register as importCommand } from './import';
import { EXIT_USAGE, context as running, reportError, reportUsage } from './io';
import { register as list } from './list';
import { register as migrate } from './migrate';
import { register as namespaces } from './namespaces';
import { register as optimize } from './optimize';
import { seconds } from './options';
import { register as search } from './search';
import { register as stats } from './stats';
import { register as transfer } from './transfer';

/**
 * The program with every command registered; `main` runs it. Commander's own
 * error output is held back (`main` prints usage errors itself, as JSON under
 * `--json`); help and `--version` print as usual.
 */
export function createProgram(): Command {
  const version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const program = new Command('aimemo')
    .configureOutput({ outputError: () => undefined })
    .hook('preAction', (_program, action) => {
      running.command = action.name();
    })
    .description('AIMemo: a memory store for AI agents (SQLite or PostgreSQL), from the terminal')
    .version(version, '-V, --version')
    .option('--db <db>', 'a SQLite file path or a postgres:// URL (default: $AIMEMO_DB, then $AIMEMO_DB_PATH, then ./aimemo.db)')
    .option('--json', 'print the result as JSON on stdout (errors as JSON on stderr)')
    .option('-q, --quiet', 'no progress output on stderr')
    .option('--connect-timeout <seconds>', 'seconds to wait for a PostgreSQL connection', seconds, 10)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 bad usage.\nRun `aimemo <command> --help` for a command\'s options and examples.');
  for (const register of [add, search, context, list, get, del, clear, namespaces, stats, exportCommand, importCommand, transfer, backup, optimize, migrate]) {
    register(program);
  }
  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const json = Boolean(program.opts().json) || argv.includes('--json');
    if (error instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; everything else commander reports is bad usage.
      return error.exitCode === 0 ? 0 : reportUsage(error.message, json);
    }
    return reportError(error, json);
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.exitCode = reportError(error, false);
    },
  );
}
