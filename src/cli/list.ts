import type { Command } from 'commander';
import { formatMemory, output } from './io';
import { withStore } from './open';
import { nonNegativeInt, optionsOf, positiveInt, tagList } from './options';

export function register(program: Command): void {
  program
    .command('list')
    .description('memories of one namespace, newest first')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .option('-l, --limit <n>', 'most memories', positiveInt(), 20)
    .option('--offset <n>', 'skip this many first', nonNegativeInt, 0)
    .option('-t, --tags <tags>', 'only memories with all of these tags, comma-separated; repeatable', tagList)
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; limit: number; offset: number; tags?: string[] }>(command);
      const memories = await withStore(opts, false, (store) =>
        store.list({ namespace: opts.namespace, limit: opts.limit, offset: opts.offset, ...(opts.tags ? { tags: opts.tags } : {}) }),
      );
      output(opts, memories, () => (memories.length ? memories.map((m) => formatMemory(m)).join('\n') : `no memories in namespace ${opts.namespace}`));
    });
}
