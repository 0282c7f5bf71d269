import type { Command } from 'commander';
import { transfer } from '../ops/transfer';
import { count, duration, note, output, table } from './io';
import { openStore, parseDatabase } from './open';
import { collect, optionsOf, positiveInt } from './options';
import { createProgress } from './progress';

export function register(program: Command): void {
  program
    .command('transfer')
    .description('copy namespaces from one database to another (SQLite ⇄ PostgreSQL), in batches, verified')
    .requiredOption('--from <db>', 'source: a SQLite path or a postgres:// URL')
    .requiredOption('--to <db>', 'destination: a SQLite path or a postgres:// URL (schema created if needed)')
    .option('-n, --namespace <namespace>', 'copy this namespace; repeatable (default: all)', collect)
    .option('--batch-size <n>', 'memories per transaction', positiveInt(100_000), 5000)
    .option('--concurrency <n>', 'batches written at once', positiveInt(16), 2)
    .option('--rewrite', 'write every memory, even those the destination already holds unchanged')
    .option('--no-verify', 'skip the final count and checksum comparison')
    .addHelpText(
      'after',
      '\nInterrupted (Ctrl-C, a lost connection)? Run the same command again: finished batches are kept,\n' +
        'memories already copied are skipped, and nothing is duplicated.\n\n' +
        'Example:\n  aimemo transfer --from ./aimemo.db --to postgres://user:pass@db:5432/app',
    )
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ from: string; to: string; namespace?: string[]; batchSize: number; concurrency: number; rewrite?: boolean; verify: boolean }>(command);
      const from = parseDatabase(opts.from, '--from');
      const to = parseDatabase(opts.to, '--to');
      const source = await openStore(from, { write: false, connectTimeout: opts.connectTimeout });
      const controller = new AbortController();
      const onSignal = () => {
        note(opts, '\nstopping after the current batch… (every finished batch is kept; run the same command again to continue)');
        controller.abort(new Error('interrupted'));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const destination = await openStore(to, { write: true, connectTimeout: opts.connectTimeout });
        try {
          let phase: 'copy' | 'verify' | undefined;
          let progress = createProgress('copy', { quiet: !!opts.quiet });
          const result = await transfer(source, destination, {
            ...(opts.namespace ? { namespaces: opts.namespace } : {}),
            batchSize: opts.batchSize,
            concurrency: opts.concurrency,
            skipUnchanged: !opts.rewrite,
            verify: opts.verify,
            signal: controller.signal,
            onProgress: (p) => {
              if (phase !== p.phase) {
                if (phase) {
                  progress.stop();
                  progress = createProgress(p.phase, { quiet: !!opts.quiet });
                }
                phase = p.phase;
              }
              progress.update(p.done, p.total, p.phase === 'copy' ? `${count(p.written)} written, ${count(p.skipped)} unchanged | ${p.namespace}` : p.namespace);
            },
          }).finally(() => progress.stop());
          output(opts, { from: from.label, to: to.label, ...result }, () =>
            [
              `${count(result.read)} memories in ${result.namespaces.length} namespaces: ${count(result.written)} written, ${count(result.skipped)} already there unchanged (${duration(result.ms)})`,
              result.verified ? 'verified: counts and checksums match on both sides' : 'not verified (--no-verify)',
              ...(result.namespaces.length <= 20 ? [table(result.namespaces.map((n) => [`  ${count(n.read).padStart(10)}`, n.namespace]))] : []),
            ].join('\n'),
          );
        } finally {
          await destination.close();
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await source.close();
      }
    });
}
