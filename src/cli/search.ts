import { Option, type Command } from 'commander';
import type { Where } from '../filter/where';
import { LIMITS } from '../validate';
import { filterOf, withFilterOptions } from './filters';
import { formatMemory, output } from './io';
import { withStore } from './open';
import { nonNegativeInt, optionsOf, positiveInt, tagList } from './options';

export function register(program: Command): void {
  withFilterOptions(
    program
      .command('search')
      .description('full-text search in one namespace, best match first')
      .argument('<query>', 'words, "phrases", prefix*, OR / AND / NOT, ( ) — see docs/search.md')
      .option('-n, --namespace <namespace>', 'namespace', 'default')
      .option('-l, --limit <n>', 'most results', positiveInt(LIMITS.searchLimit), 5)
      .option('-t, --tags <tags>', 'only memories with all of these tags, comma-separated; repeatable', tagList)
      .addOption(new Option('--mode <mode>', "'all': every word must match; 'any': rank by how many match").choices(['all', 'any']).default('all'))
      .option('--offset <n>', 'skip the best n results (the next page); offset + limit at most 10,000', nonNegativeInt),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  aimemo search "fastapi auth*" -n user_123\n  aimemo search "dark mode" --mode any --json\n  aimemo search deadline -n user_123 --where \'{"priority":{"$gte":2}}\' --since 2026-01-01',
    )
    .action(async (query: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; limit: number; tags?: string[]; mode: 'all' | 'any'; offset?: number; where?: Where; since?: Date; until?: Date }>(command);
      const hits = await withStore(opts, false, (store) =>
        store.search(query, { namespace: opts.namespace, limit: opts.limit, mode: opts.mode, ...(opts.offset ? { offset: opts.offset } : {}), ...filterOf(opts) }),
      );
      output(opts, hits, () => (hits.length ? hits.map((h) => formatMemory(h, false, hits[0].score)).join('\n') : 'no memories found'));
    });
}
