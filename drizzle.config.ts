/**
 * drizzle-kit configuration for AIMemo's own tables.
 *
 * The dialect comes from `AIMEMO_DIALECT` (`sqlite` | `postgres`) or else from
 * `DATABASE_URL`: `postgres://` / `postgresql://` means PostgreSQL, anything else
 * (a file path or a `file:` URL) means SQLite, with `./aimemo.db` when unset.
 *
 *   DATABASE_URL=postgres://u:p@host/db npx drizzle-kit migrate
 *   npx drizzle-kit migrate --config node_modules/aimemo/drizzle.config.ts   # from an app
 *
 * Paths are resolved from this file, so the shipped copy works from any directory.
 * Migrations are recorded in `__aimemo_migrations` (schema `aimemo` on
 * PostgreSQL), never in the `__drizzle_migrations` table an app may share.
 */
import * as path from 'node:path';
import type { Config } from 'drizzle-kit';

const url = process.env.DATABASE_URL;
const isPostgresUrl = (u: string | undefined) => !!u && /^postgres(ql)?:\/\//i.test(u);
const choice = process.env.AIMEMO_DIALECT ?? (isPostgresUrl(url) ? 'postgres' : 'sqlite');
if (choice !== 'sqlite' && choice !== 'postgres') {
  throw new Error(`AIMEMO_DIALECT must be 'sqlite' or 'postgres'; got '${choice}'`);
}

// drizzle-kit prefixes `./` to some paths, so absolute paths break `generate`:
// give it paths relative to the working directory, computed from this file.
const here = (...parts: string[]) => path.relative(process.cwd(), path.join(__dirname, ...parts)) || '.';

const sqliteFile = (u: string | undefined) => (u ? u.replace(/^file:(\/\/)?/, '') : './aimemo.db');

const config: Config =
  choice === 'postgres'
    ? {
        dialect: 'postgresql',
        schema: here('drizzle', 'postgres.ts'),
        out: here('migrations', 'postgres'),
        schemaFilter: ['aimemo'],
        dbCredentials: { url: url ?? '' },
        migrations: { table: '__aimemo_migrations', schema: 'aimemo' },
      }
    : {
        dialect: 'sqlite',
        schema: here('drizzle', 'sqlite.ts'),
        out: here('migrations', 'sqlite'),
        tablesFilter: ['memories'],
        dbCredentials: { url: sqliteFile(url) },
        migrations: { table: '__aimemo_migrations' },
      };

export default config;
