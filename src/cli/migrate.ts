import type { Command } from 'commander';
import { SchemaOutdatedError } from '../errors';
import { readMigrations } from '../migrate/locate';
import { CliError, output } from './io';
import { defaultDatabase, openStore, parseDatabase } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the store's schema with the migrations shipped in this package")
    .option('--check', 'only report whether the schema is up to date (exit code 1 when not)')
    .addHelpText('after', '\nExamples:\n  aimemo migrate --db postgres://user:pass@db:5432/app\n  aimemo migrate --check --db ./aimemo.db')
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ check?: boolean }>(command);
      const spec = parseDatabase(opts.db ?? defaultDatabase());
      const migrations = readMigrations(spec.dialect);
      const latest = migrations[migrations.length - 1].tag;
      let before: string | null = latest;
      try {
        const probe = await openStore(spec, { write: false, connectTimeout: opts.connectTimeout });
        await probe.close();
      } catch (error) {
        if (!(error instanceof SchemaOutdatedError)) {
          // A SQLite file that does not exist yet is simply not migrated yet.
          if (!(spec.dialect === 'sqlite' && (error as { code?: string }).code === 'BAD_FILE')) throw error;
        }
        before = error instanceof SchemaOutdatedError ? error.found : null;
      }
      const upToDate = before === latest;
      const pending = upToDate ? [] : migrations.slice(before === null ? 0 : migrations.findIndex((m) => m.tag === before) + 1).map((m) => m.tag);
      if (opts.check) {
        const result = { database: spec.label, dialect: spec.dialect, current: before, latest, upToDate, pending };
        if (!upToDate) {
          if (opts.json) output(opts, result, () => '');
          throw new CliError(`${spec.label}: the schema is at ${before ?? 'no aimemo migrations'}; ${pending.length} pending (${pending.join(', ')}). Run: aimemo migrate`);
        }
        output(opts, result, () => `${spec.label}: up to date (${latest})`);
        return;
      }
      if (!upToDate) {
        const store = await openStore(spec, { write: true, connectTimeout: opts.connectTimeout });
        await store.close();
      }
      const result = { database: spec.label, dialect: spec.dialect, before, after: latest, applied: pending };
      output(opts, result, () =>
        upToDate ? `${spec.label}: already up to date (${latest})` : `${spec.label}: applied ${pending.length} migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}); now at ${latest}`,
      );
    });
}
