import type { Command } from 'commander';
import { count, duration, note, output, table } from './io';
import { withStore } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('optimize')
    .description('routine maintenance, safe while apps use the store (SQLite: FTS5 optimize, PRAGMA optimize, WAL checkpoint; PostgreSQL: ANALYZE)')
    .option('--vacuum', 'also VACUUM (SQLite: rewrites the file, writers wait meanwhile; PostgreSQL: VACUUM (ANALYZE), blocks nobody)')
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ vacuum?: boolean }>(command);
      const result = await withStore(opts, 'maintain', async (store, spec) => {
        note(opts, `optimize: ${spec.label}…`);
        return store.optimize({ vacuum: !!opts.vacuum });
      });
      const total = result.steps.reduce((n, s) => n + s.ms, 0);
      output(opts, result, () =>
        [
          table(result.steps.map((s) => [`  ${count(s.ms).padStart(7)} ms`, s.step, s.result ? JSON.stringify(s.result) : ''])),
          `done in ${duration(total)}`,
        ].join('\n'),
      );
    });
}
