import type { Command } from 'commander';
import type { Where } from '../filter/where';
import { CliError, EXIT_USAGE, output } from './io';
import { filterOf, withFilterOptions } from './filters';
import { withStore } from './open';
import { optionsOf, tagList } from './options';

export function register(program: Command): void {
  withFilterOptions(
    program
      .command('delete')
      .description('delete one memory by id (exit code 1 when there was none), or every memory of a namespace matching --where/--since/--until/--tags')
      .argument('[id]', 'the memory id')
      .option('-n, --namespace <namespace>', 'namespace', 'default')
      .option('-t, --tags <tags>', 'only memories with all of these tags, comma-separated; repeatable', tagList),
  )
    .option('-y, --yes', 'really delete the memories a filter selects (required without an id)')
    .addHelpText('after', '\nExamples:\n  aimemo delete 0194f… -n user_123\n  aimemo delete -n user_123 --where \'{"project":"x"}\' --yes      # forget everything about project X')
    .action(async (id: string | undefined, _opts, command: Command) => {
      const opts = optionsOf<{ namespace: string; tags?: string[]; where?: Where; since?: Date; until?: Date; yes?: boolean }>(command);
      const filter = filterOf(opts);
      if (id === undefined) {
        if (Object.keys(filter).length === 0) throw new CliError('delete needs an id, or --where, --since, --until or --tags (to empty a namespace, use clear)', undefined, EXIT_USAGE);
        if (!opts.yes) throw new CliError(`delete deletes every memory of namespace ${JSON.stringify(opts.namespace)} the filter selects; add --yes to do it`, undefined, EXIT_USAGE);
        const deleted = await withStore(opts, true, (store) => store.deleteMany({ namespace: opts.namespace, ...filter }));
        output(opts, { namespace: opts.namespace, deleted }, () => `deleted ${deleted} memories from namespace ${opts.namespace}`);
        return;
      }
      const deleted = Object.keys(filter).length
        ? (await withStore(opts, true, (store) => store.deleteMany({ namespace: opts.namespace, ids: [id], ...filter }))) > 0
        : await withStore(opts, true, (store) => store.delete(id, opts.namespace));
      if (!deleted) throw new CliError(`no memory ${JSON.stringify(id)} in namespace ${JSON.stringify(opts.namespace)}`, { id, namespace: opts.namespace, deleted });
      output(opts, { id, namespace: opts.namespace, deleted }, () => `deleted ${id} from namespace ${opts.namespace}`);
    });
}
