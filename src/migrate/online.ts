/**
 * Online migration steps on PostgreSQL: index builds and drops that never
 * make readers (or writers) wait.
 *
 * `CREATE INDEX` blocks writers while it reads the table, and `DROP INDEX`
 * takes an ACCESS EXCLUSIVE lock that, inside a migration's transaction, is
 * held until the transaction commits: readers of the table wait for every
 * later statement of the batch (6.8 s for a primary-key SELECT at 400,000
 * memories while 0002 built its GIN indexes). `CREATE INDEX CONCURRENTLY` and
 * `DROP INDEX CONCURRENTLY` block neither, but cannot run inside a
 * transaction (https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY).
 *
 * The convention (docs/schema.md, "Online migrations"): a migration whose
 * first line is `-- aimemo:online` holds only statements that can run one by
 * one outside a transaction: `CREATE [UNIQUE] INDEX`, `DROP INDEX`,
 * `CREATE EXTENSION IF NOT EXISTS` and `ANALYZE`, written as drizzle-kit
 * writes them (plain, valid in a transaction). `drizzle-kit migrate` runs the
 * file as it is, in its transaction: correct, only locking. AIMemo's own
 * runner (autoMigrate, `aimemo migrate`) runs each statement on its own,
 * index statements `CONCURRENTLY`, and records the migration when all are
 * done; every statement is idempotent, so a run that died halfway is simply
 * run again. A concurrent build that died leaves an INVALID index behind: it
 * is dropped and built again.
 *
 * The released migrations 0001 and 0002 predate the marker and cannot be
 * edited (their hashes are recorded): they are run online as listed in
 * {@link RELEASED_ONLINE}, with their index builds moved before their drops
 * (the names differ, so the result is the same schema).
 */
import { sql } from 'drizzle-orm';
import type { Migration } from './locate';

/** The first line that marks a migration as online (see the module comment). */
export const ONLINE_MARKER = '-- aimemo:online';

/**
 * Released migrations run online although they carry no marker, by tag and
 * the hash they were released with (a file with other bytes runs as written,
 * in the transaction).
 */
export const RELEASED_ONLINE: Record<string, string> = {
  '0001_ns-ts-id-index': 'aeb95d6ea3ef94021a556eb30d40bdfc060829f8ba1135644722db2ba1c8da59',
  '0002_ns-gin-indexes': '2ef31aab3e3ae4dd02246025d21a6f61400a0c97139bfd8f723661b36bc16f49',
};

/**
 * A statement as the online runner runs it: `sql` (CONCURRENTLY), or `plain`
 * when the table is partitioned (PostgreSQL builds and drops indexes of a
 * partitioned table only without CONCURRENTLY; outside a transaction the
 * build still lets readers in, and the drop's lock is brief).
 */
export type OnlineStep =
  | { kind: 'create-index'; schema: string; name: string; table: string; sql: string; plain: string }
  | { kind: 'drop-index'; schema: string; name: string; sql: string; plain: string }
  | { kind: 'plain'; sql: string };

/** The statement without its leading `--` comment lines and surrounding blanks. */
function bare(statement: string): string {
  return statement
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n')
    .trim()
    .replace(/;\s*$/, '');
}

const CREATE_INDEX = /^CREATE\s+(UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|[\w$]+)\s+ON\s+(?:ONLY\s+)?(?:("[^"]+"|[\w$]+)\.)?("[^"]+"|[\w$]+)([\s\S]*)$/i;
const DROP_INDEX = /^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?([\s\S]+)$/i;
const PLAIN = /^(CREATE\s+EXTENSION\s+IF\s+NOT\s+EXISTS|ANALYZE)\b/i;

const unquote = (name: string): string => (name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase());

/**
 * One statement of an online migration as it runs online.
 * @throws Error naming the statement when it is not allowed in an online migration.
 */
export function onlineStep(statement: string, tag: string): OnlineStep | null {
  const text = bare(statement);
  if (text === '') return null;
  const create = CREATE_INDEX.exec(text);
  if (create) {
    const [, unique = '', name, schema = 'public', table, rest] = create;
    const target = `${name} ON ${create[3] ? `${schema}.` : ''}${table}${rest}`;
    return {
      kind: 'create-index',
      schema: unquote(schema),
      name: unquote(name),
      table: unquote(table),
      sql: `CREATE ${unique.toUpperCase()}INDEX CONCURRENTLY IF NOT EXISTS ${target}`,
      plain: `CREATE ${unique.toUpperCase()}INDEX IF NOT EXISTS ${target}`,
    };
  }
  const drop = DROP_INDEX.exec(text);
  if (drop) {
    const index = /^(?:("[^"]+"|[\w$]+)\.)?("[^"]+"|[\w$]+)$/.exec(drop[1].trim());
    if (!index) throw new Error(`${tag}: an online migration drops one index per statement, without CASCADE: ${text.slice(0, 120)}`);
    return {
      kind: 'drop-index',
      schema: unquote(index[1] ?? 'public'),
      name: unquote(index[2]),
      sql: `DROP INDEX CONCURRENTLY IF EXISTS ${drop[1].trim()}`,
      plain: `DROP INDEX IF EXISTS ${drop[1].trim()}`,
    };
  }
  if (PLAIN.test(text)) return { kind: 'plain', sql: text };
  throw new Error(
    `${tag} is marked ${ONLINE_MARKER} but holds a statement that cannot run outside a transaction (only CREATE INDEX, DROP INDEX, ` +
      `CREATE EXTENSION IF NOT EXISTS and ANALYZE may): ${text.slice(0, 120)}`,
  );
}

/** Whether this migration runs online (marked, or a released one listed in {@link RELEASED_ONLINE}). */
export function isOnline(m: Migration): boolean {
  return RELEASED_ONLINE[m.tag] === m.hash || (m.statements.length > 0 && m.statements[0].trimStart().startsWith(ONLINE_MARKER));
}

/**
 * The steps of an online migration, in the order they run: as written for a
 * marked migration; for a released one, plain statements first, then index
 * builds, then drops.
 */
export function onlinePlan(m: Migration): OnlineStep[] {
  const steps = m.statements.map((s) => onlineStep(s, m.tag)).filter((s): s is OnlineStep => s !== null);
  if (RELEASED_ONLINE[m.tag] !== m.hash) return steps;
  const order = { plain: 0, 'create-index': 1, 'drop-index': 2 } as const;
  return steps.map((step, i) => ({ step, i })).sort((a, b) => order[a.step.kind] - order[b.step.kind] || a.i - b.i).map((x) => x.step);
}

/**
 * Whether an index of this name exists in the schema, whether it is valid
 * (INVALID: a concurrent build that died) and whether its table is
 * partitioned; no row when there is no such index.
 */
export const indexQuery = (schema: string, name: string) => sql`
  SELECT i.indisvalid AS valid, t.relkind = 'p' AS partitioned FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = i.indrelid
  WHERE n.nspname = ${schema} AND c.relname = ${name}`;

/** Whether the table `schema.name` is partitioned. */
export const partitionedQuery = (schema: string, table: string) => sql`
  SELECT c.relkind = 'p' AS partitioned FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ${schema} AND c.relname = ${table}`;

/** Quotes an identifier for SQL text. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
