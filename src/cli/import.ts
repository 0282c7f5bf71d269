import type { Command } from 'commander';
import { importJsonl } from '../ops/jsonl';
import { CliError, count, duration, output } from './io';
import { withStore } from './open';
import { collect, optionsOf, positiveInt } from './options';
import { createProgress } from './progress';

const SHOWN_ERRORS = 20;

export function register(program: Command): void {
  program
    .command('import')
    .description('read AIMemo JSON Lines (plain or gzip) into the store; bad lines are reported, not written')
    .argument('<file>', 'the file to read; - is stdin')
    .option('--only <namespace>', 'import only this namespace of the file; repeatable', collect)
    .option('--into <namespace>', 'put every memory into this namespace instead of its own')
    .option('--batch-size <n>', 'memories written per transaction', positiveInt(100_000), 1000)
    .option('--dry-run', 'check every line, write nothing')
    .addHelpText(
      'after',
      '\nExit code 1 when any line was rejected (the valid ones are imported).\n\nExamples:\n  aimemo import backup.jsonl.gz\n  aimemo import backup.jsonl --only user_123 --into user_123_restored',
    )
    .action(async (file: string, _opts, command: Command) => {
      const opts = optionsOf<{ only?: string[]; into?: string; batchSize: number; dryRun?: boolean }>(command);
      const result = await withStore(opts, !opts.dryRun, async (store) => {
        // Two passes: the whole input is checked ('check'), then written ('import'); stdin is copied to a temporary file first.
        let phase: 'check' | 'import' = 'check';
        let progress = createProgress('check', { quiet: !!opts.quiet, unit: 'bytes' });
        try {
          return await importJsonl(store, file === '-' ? process.stdin : file, {
            ...(opts.only ? { namespaces: opts.only } : {}),
            ...(opts.into === undefined ? {} : { namespace: opts.into }),
            batchSize: opts.batchSize,
            dryRun: !!opts.dryRun,
            onProgress: (p) => {
              if (p.phase !== phase) {
                progress.stop();
                phase = p.phase;
                progress = createProgress('import', { quiet: !!opts.quiet, unit: 'bytes' });
              }
              progress.update(p.bytes, p.totalBytes ?? p.bytes, `${count(p.imported)} ${phase === 'check' ? 'valid' : 'imported'}, ${count(p.rejected)} rejected`);
            },
          });
        } finally {
          progress.stop();
        }
      });
      const verb = result.dryRun ? 'would import' : 'imported';
      const summary = `${verb} ${count(result.imported)} memories into ${result.namespaces.length} namespaces from ${count(result.lines)} lines` +
        `${result.filtered ? `, ${count(result.filtered)} left out by --only` : ''}, ${count(result.rejected)} rejected (${duration(result.ms)})`;
      if (result.rejected > 0) {
        const shown = result.errors.slice(0, SHOWN_ERRORS).map((e) => `  line ${e.line}: ${e.message}`);
        if (opts.json) output(opts, result, () => '');
        throw new CliError(
          `${summary}\n${shown.join('\n')}${result.rejected > shown.length ? `\n  … and ${count(result.rejected - shown.length)} more (--json lists up to 1,000)` : ''}`,
        );
      }
      output(opts, result, () => summary);
    });
}
