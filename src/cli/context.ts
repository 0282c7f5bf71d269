import type { Command } from 'commander';
import { AIMemo } from '../aimemo';
import { output } from './io';
import { withStore } from './open';
import { optionsOf, positiveInt } from './options';

export function register(program: Command): void {
  program
    .command('context')
    .description('the memories relevant to a question, formatted for an LLM prompt (empty when none)')
    .argument('<query>', 'what the user typed, punctuation and all')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .option('-l, --limit <n>', 'most memories', positiveInt(), 5)
    .option('--max-chars <n>', 'most characters', positiveInt(), 2000)
    .addHelpText('after', '\nExample:\n  aimemo context "How do I add authentication?" -n user_123')
    .action(async (query: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; limit: number; maxChars: number }>(command);
      const context = await withStore(opts, false, (store) =>
        new AIMemo({ store, namespace: opts.namespace }).getContext(query, { limit: opts.limit, maxChars: opts.maxChars }),
      );
      output(opts, { context }, () => context);
    });
}
