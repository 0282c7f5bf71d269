import type { Command } from 'commander';
import { CliError, formatMemory, output } from './io';
import { withStore } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('get')
    .description('one memory by id (exit code 1 when there is none)')
    .argument('<id>', 'the memory id')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .action(async (id: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string }>(command);
      const memory = await withStore(opts, false, (store) => store.get(id, opts.namespace));
      if (!memory) throw new CliError(`no memory ${JSON.stringify(id)} in namespace ${JSON.stringify(opts.namespace)}`, { id, namespace: opts.namespace });
      output(opts, memory, () => `${formatMemory(memory, true)}${Object.keys(memory.metadata).length ? `\n    metadata: ${JSON.stringify(memory.metadata)}` : ''}`);
    });
}
