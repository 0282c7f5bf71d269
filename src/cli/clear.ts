import type { Command } from 'commander';
import { CliError, EXIT_USAGE, output } from './io';
import { withStore } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('clear')
    .description('delete every memory of one namespace')
    .requiredOption('-n, --namespace <namespace>', 'the namespace to empty')
    .option('-y, --yes', 'really delete (required)')
    .addHelpText('after', '\nExample (export first to keep a copy):\n  aimemo export user_123.jsonl -n user_123 && aimemo clear -n user_123 --yes')
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; yes?: boolean }>(command);
      if (!opts.yes) throw new CliError(`clear deletes every memory of namespace ${JSON.stringify(opts.namespace)}; add --yes to do it`, undefined, EXIT_USAGE);
      const removed = await withStore(opts, true, (store) => store.clear(opts.namespace));
      output(opts, { namespace: opts.namespace, removed }, () => `removed ${removed} memories from namespace ${opts.namespace}`);
    });
}
