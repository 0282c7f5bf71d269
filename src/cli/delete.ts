import type { Command } from 'commander';
import { CliError, output } from './io';
import { withStore } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('delete')
    .description('delete one memory by id (exit code 1 when there was none)')
    .argument('<id>', 'the memory id')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .action(async (id: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string }>(command);
      const deleted = await withStore(opts, true, (store) => store.delete(id, opts.namespace));
      if (!deleted) throw new CliError(`no memory ${JSON.stringify(id)} in namespace ${JSON.stringify(opts.namespace)}`, { id, namespace: opts.namespace, deleted });
      output(opts, { id, namespace: opts.namespace, deleted }, () => `deleted ${id} from namespace ${opts.namespace}`);
    });
}
