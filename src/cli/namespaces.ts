import type { Command } from 'commander';
import { count, output, table } from './io';
import { withStore } from './open';

export function register(program: Command): void {
  program
    .command('namespaces')
    .description('every namespace, with how many memories it holds')
    .action(async (_opts, command: Command) => {
      const opts = command.optsWithGlobals();
      const rows = await withStore(opts, false, (store) => store.countByNamespace());
      output(opts, rows, () => (rows.length ? table(rows.map((r) => [count(r.count).padStart(10), r.namespace])) : 'no namespaces (the store is empty)'));
    });
}
