import type { Command } from 'commander';
import { SQLiteStore } from '../store/sqlite/sqlite-store';
import { CliError, count, duration, output } from './io';
import { defaultDatabase, parseDatabase, withStore } from './open';
import { optionsOf } from './options';
import { createProgress } from './progress';

export function register(program: Command): void {
  program
    .command('backup')
    .description('consistent copy of a live SQLite database (online backup API), checked before it is put in place')
    .argument('<file>', 'where to write the copy')
    .option('-f, --force', 'replace the file if it exists')
    .option('--no-verify', 'skip the integrity and full-text index checks of the copy')
    .addHelpText(
      'after',
      '\nPostgreSQL: use pg_dump (see docs/operations.md), or `aimemo export` for a per-namespace backup.\n\nExample:\n  aimemo backup /backups/aimemo-$(date +%F).db',
    )
    .action(async (file: string, _opts, command: Command) => {
      const opts = optionsOf<{ force?: boolean; verify: boolean }>(command);
      const spec = parseDatabase(opts.db ?? defaultDatabase());
      if (spec.dialect !== 'sqlite') {
        throw new CliError(
          'backup copies SQLite databases; for PostgreSQL use pg_dump --format=custom --schema=aimemo (see docs/operations.md), or `aimemo export` for JSON Lines',
        );
      }
      const result = await withStore(opts, false, async (store) => {
        const progress = createProgress('backup', { quiet: !!opts.quiet, unit: 'pages' });
        try {
          return await (store as SQLiteStore).backup(file, {
            overwrite: !!opts.force,
            verify: opts.verify,
            onProgress: (p) => progress.update(p.totalPages - p.remainingPages, p.totalPages),
          });
        } finally {
          progress.stop();
        }
      });
      output(opts, result, () => `backed up to ${result.path}: ${count(result.bytes)} bytes${result.verified ? ', checked' : ''} (${duration(result.ms)})`);
    });
}
