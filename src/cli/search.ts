import { Option, type Command } from 'commander';
import { LIMITS } from '../validate';
import { formatMemory, output } from './io';
import { withStore } from './open';
import { optionsOf, positiveInt, tagList } from './options';

export function register(program: Command): void {
  program
    .command('search')
    .description('full-text search in one namespace, best match first')
    .argument('<query>', 'words, "phrases", prefix*, OR / AND / NOT, ( ) — see docs/search.md')
    .option('-n, --namespace <namespace>', 'namespace', 'default')
    .option('-l, --limit <n>', 'most results', positiveInt(LIMITS.searchLimit), 5)
    .option('-t, --tags <tags>', 'only memories with all of these tags, comma-separated; repeatable', tagList)
    .addOption(new Option('--mode <mode>', "'all': every word must match; 'any': rank by how many match").choices(['all', 'any']).default('all'))
    .addHelpText('after', '\nExamples:\n  aimemo search "fastapi auth*" -n user_123\n  aimemo search "dark mode" --mode any --json')
    .action(async (query: string, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; limit: number; tags?: string[]; mode: 'all' | 'any' }>(command);
      const hits = await withStore(opts, false, (store) =>
        store.search(query, { namespace: opts.namespace, limit: opts.limit, mode: opts.mode, ...(opts.tags ? { tags: opts.tags } : {}) }),
      );
      output(opts, hits, () => (hits.length ? hits.map((h) => formatMemory(h, false, hits[0].score)).join('\n') : 'no memories found'));
    });
}
