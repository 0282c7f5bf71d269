import type { Command } from 'commander';
import * as fs from 'node:fs';
import { PostgresStore } from '../store/postgres/postgres-store';
import { count, output, table } from './io';
import { withStore } from './open';

function fileBytes(file: string): number {
  return ['', '-wal'].reduce((n, suffix) => n + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('how many memories and namespaces, average size; the connection pool on PostgreSQL')
    .action(async (_opts, command: Command) => {
      const opts = command.optsWithGlobals();
      const stats = await withStore(opts, false, async (store, spec) => {
        const table = await store.getTableStats();
        return {
          dialect: spec.dialect,
          database: spec.label,
          ...table,
          ...(spec.dialect === 'sqlite' ? { fileBytes: fileBytes(spec.path) } : {}),
          ...(store instanceof PostgresStore ? { pool: store.getPoolStatus() } : {}),
        };
      });
      output(opts, stats, () =>
        table([
          ['database', `${stats.database} (${stats.dialect})`],
          ['memories', count(stats.totalMemories)],
          ['namespaces', count(stats.namespaces)],
          ['average size', `${count(Math.round(stats.avgSize))} characters`],
          ...(stats.fileBytes === undefined ? [] : [['file size', `${count(stats.fileBytes)} bytes`]]),
          ...(stats.pool
            ? [['pool', `size ${stats.pool.size}, overflow ${stats.pool.overflow}, checked in ${stats.pool.checkedIn}, checked out ${stats.pool.checkedOut}`]]
            : []),
        ]),
      );
    });
}
