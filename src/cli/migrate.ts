import type { Command } from 'commander';
import { SchemaOutdatedError } from '../errors';
import { readMigrations } from '../migrate/locate';
import { newerSchemaMessage, type SchemaNewerInfo } from '../migrate/schema-version';
import { CliError, note, output } from './io';
import { defaultDatabase, openStore, parseDatabase } from './open';
import { optionsOf } from './options';

export function register(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the store's schema with the migrations shipped in this package")
    .option('--check', 'only report whether the schema is what this version expects (exit code 1 when it is older or newer)')
    .addHelpText(
      'after',
      '\nA database migrated by a newer aimemo is reported (a rollback): --check exits 1; migrate applies nothing, and\n' +
        'exits 1 only when a newer migration is marked incompatible with this version (writes are then refused).\n\n' +
        'Examples:\n  aimemo migrate --db postgres://user:pass@db:5432/app\n  aimemo migrate --check --db ./aimemo.db',
    )
    .action(async (_opts, command: Command) => {
      const opts = optionsOf<{ check?: boolean }>(command);
      const spec = parseDatabase(opts.db ?? defaultDatabase());
      const migrations = readMigrations(spec.dialect);
      const latest = migrations[migrations.length - 1].tag;
      let before: string | null = latest;
      let newer: SchemaNewerInfo | undefined;
      try {
        const probe = await openStore(spec, { write: false, connectTimeout: opts.connectTimeout, onSchemaNewer: (info) => (newer = info) });
        await probe.close();
      } catch (error) {
        if (!(error instanceof SchemaOutdatedError)) {
          // A SQLite file that does not exist yet is simply not migrated yet.
          if (!(spec.dialect === 'sqlite' && (error as { code?: string }).code === 'BAD_FILE')) throw error;
        }
        before = error instanceof SchemaOutdatedError ? error.found : null;
      }
      const upToDate = before === latest && !newer;
      const pending = before === latest ? [] : migrations.slice(before === null ? 0 : migrations.findIndex((m) => m.tag === before) + 1).map((m) => m.tag);
      const newerFields = newer ? { version: newer.version, newer: newer.newer, incompatible: newer.incompatible } : {};
      if (opts.check) {
        const result = { database: spec.label, dialect: spec.dialect, current: before, latest, upToDate, pending, ...newerFields };
        if (!upToDate) {
          if (opts.json) output(opts, result, () => '');
          if (newer) throw new CliError(`${spec.label}: ${newerSchemaMessage(newer)}`);
          throw new CliError(`${spec.label}: the schema is at ${before ?? 'no aimemo migrations'}; ${pending.length} pending (${pending.join(', ')}). Run: aimemo migrate`);
        }
        output(opts, result, () => `${spec.label}: up to date (${latest})`);
        return;
      }
      if (newer) {
        // Nothing to apply: the database is ahead of this version.
        const result = { database: spec.label, dialect: spec.dialect, before: latest, after: latest, applied: [], ...newerFields };
        if (newer.incompatible.length) {
          if (opts.json) output(opts, result, () => '');
          throw new CliError(`${spec.label}: ${newerSchemaMessage(newer)}`);
        }
        note(opts, `aimemo: warning: ${newerSchemaMessage(newer)}`);
        output(opts, result, () => `${spec.label}: nothing to apply; the database is newer than this version (${latest})`);
        return;
      }
      // Migrate, then index for search whatever the migrations queued (0003/0005_search-index: every existing
      // memory), so that no search after the deploy waits for it.
      const store = await openStore(spec, { write: true, connectTimeout: opts.connectTimeout });
      let indexed = 0;
      try {
        indexed = await store.indexQueued((done) => note(opts, `aimemo: indexed ${done} memories for search`));
      } finally {
        await store.close();
      }
      const result = { database: spec.label, dialect: spec.dialect, before, after: latest, applied: pending, indexed };
      const index = indexed ? `; indexed ${indexed} memor${indexed === 1 ? 'y' : 'ies'} for search` : '';
      output(opts, result, () =>
        before === latest
          ? `${spec.label}: already up to date (${latest})${index}`
          : `${spec.label}: applied ${pending.length} migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}); now at ${latest}${index}`,
      );
    });
}
