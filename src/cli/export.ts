import type { Command } from 'commander';
import { exportJsonl } from '../ops/jsonl';
import { count, duration, output } from './io';
import { withStore } from './open';
import { collect, optionsOf, positiveInt } from './options';
import { createProgress } from './progress';

export function register(program: Command): void {
  program
    .command('export')
    .description('write namespaces as AIMemo JSON Lines (a file, file.gz, or - for stdout)')
    .argument('[file]', 'where to write; .gz compresses; - is stdout', '-')
    .option('-n, --namespace <namespace>', 'export this namespace; repeatable (default: all)', collect)
    .option('--batch-size <n>', 'memories read at a time', positiveInt(100_000), 5000)
    .option('-f, --force', 'replace the file if it exists (never the database itself)')
    .addHelpText('after', '\nExamples:\n  aimemo export backup.jsonl.gz\n  aimemo export - -n user_123 > user_123.jsonl')
    .action(async (file: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace?: string[]; batchSize: number; force?: boolean }>(command);
      const toStdout = file === '-';
      const result = await withStore(opts, false, async (store) => {
        const progress = createProgress('export', { quiet: !!opts.quiet });
        try {
          return await exportJsonl(store, toStdout ? process.stdout : file, {
            ...(opts.namespace ? { namespaces: opts.namespace } : {}),
            batchSize: opts.batchSize,
            overwrite: !!opts.force,
            onProgress: (p) => progress.update(p.done, p.total, p.namespace),
          });
        } finally {
          progress.stop();
        }
      });
      // With stdout carrying the export, the summary goes to stderr.
      output(
        opts,
        result,
        () => `exported ${count(result.count)} memories from ${result.namespaces.length} namespaces${result.path ? ` to ${result.path}` : ''} (${count(result.bytes)} bytes, ${duration(result.ms)})`,
        toStdout ? process.stderr : process.stdout,
      );
    });
}
