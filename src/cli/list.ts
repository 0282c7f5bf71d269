import type { Command } from 'commander';
import { CliError, EXIT_USAGE, formatMemory, output } from './io';
import { filterOf, withFilterOptions } from './filters';
import { withStore } from './open';
import { nonNegativeInt, optionsOf, positiveInt, tagList } from './options';
import type { Where } from '../filter/where';

export function register(program: Command): void {
  withFilterOptions(
    program
      .command('list')
      .description('memories of one namespace, newest first')
      .option('-n, --namespace <namespace>', 'namespace', 'default')
      .option('-l, --limit <n>', 'most memories (per page with --page or --cursor)', positiveInt(), 20)
      .option('--offset <n>', 'skip this many first', nonNegativeInt)
      .option('-t, --tags <tags>', 'only memories with all of these tags, comma-separated; repeatable', tagList),
  )
    .option('--page', 'page through the list: print the cursor of the next page (with --json: { memories, cursor })')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed (implies --page)')
    .addHelpText(
      'after',
      '\nExamples:\n  aimemo list -n user_123 --where \'{"source":"chat"}\' --since 2026-01-01\n  aimemo list -n user_123 --page --limit 100        # then: --cursor <the cursor it printed>',
    )
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; limit: number; offset?: number; tags?: string[]; where?: Where; since?: Date; until?: Date; page?: boolean; cursor?: string }>(command);
      const paging = opts.page || opts.cursor !== undefined;
      if (paging && opts.offset !== undefined) throw new CliError('--offset cannot be used with --page or --cursor (a cursor already says where the page starts)', undefined, EXIT_USAGE);
      const filter = { namespace: opts.namespace, limit: opts.limit, ...filterOf(opts) };
      if (paging) {
        const page = await withStore(opts, false, (store) => store.listPage({ ...filter, ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }) }));
        output(opts, page, () =>
          [
            page.memories.length ? page.memories.map((m) => formatMemory(m)).join('\n') : `no memories in namespace ${opts.namespace}`,
            page.cursor ? `next page: --cursor ${page.cursor}` : '(last page)',
          ].join('\n'),
        );
        return;
      }
      const memories = await withStore(opts, false, (store) => store.list({ ...filter, offset: opts.offset ?? 0 }));
      output(opts, memories, () => (memories.length ? memories.map((m) => formatMemory(m)).join('\n') : `no memories in namespace ${opts.namespace}`));
    });
}
