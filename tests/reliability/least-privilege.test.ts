/**
 * Issue #6.9: the PostgreSQL store migrates and runs as an ordinary role
 * (LOGIN, NOSUPERUSER, NOCREATEDB, NOCREATEROLE) that owns only its schema,
 * with exactly the grants docs/postgresql.md lists:
 *
 * - owner role, CREATE on the database: creates the schema `aimemo` itself;
 * - owner role, no CREATE on the database: the schema is made for it
 *   beforehand (`CREATE SCHEMA aimemo AUTHORIZATION …`), and the btree_gin
 *   extension installed into it (`CREATE EXTENSION btree_gin SCHEMA aimemo`);
 *   without the extension, a MigrationError says what to run;
 * - a separate runtime role with only USAGE and SELECT/INSERT/UPDATE/DELETE
 *   (`autoMigrate: false`), after the owner migrated;
 * - a role with none of that gets a MigrationError that says why, and nothing
 *   is created.
 *
 * Needs a server (AIMEMO_TEST_PG_URL) where the test user may create roles.
 */
/** The tables a runtime role writes (docs/postgresql.md): memories and the search index the triggers keep. */
const RUNTIME_TABLES = 'aimemo.memories, aimemo.search_namespaces, aimemo.search_terms, aimemo.search_postings, aimemo.search_log, aimemo.search_pending';
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import postgres from 'postgres';
import { MigrationError, PostgresStore } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { report } from '../helpers/reliability';

if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('Least-privilege tests skipped: AIMEMO_TEST_PG_URL is not set (PGlite has one user)');
  test.skip('least privilege: set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  describe('PostgresStore as an ordinary role (least privilege)', () => {
    const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
    const roles: string[] = [];
    const databases: TestDatabase[] = [];
    let admin: postgres.Sql;

    /** A new login role with no attributes beyond LOGIN. */
    async function role(label: string): Promise<string> {
      const name = `aimemo_${label}_${suffix}`;
      await admin.unsafe(`CREATE ROLE "${name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS`);
      roles.push(name);
      return name;
    }

    async function database(label: string): Promise<{ url: string; name: string; sql: postgres.Sql }> {
      const db = await createTestDatabase(label);
      databases.push(db);
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      return { url: db.url, name: new URL(db.url).pathname.slice(1), sql };
    }

    const as = (url: string, user: string) => {
      const u = new URL(url);
      u.username = user;
      u.password = '';
      return u.toString();
    };

    /** Every operation of MemoryStore, as `user`. */
    async function exercise(store: PostgresStore): Promise<void> {
      await store.save({ id: 'm1', namespace: 'lp', content: 'least privilege is enough for saving', tags: ['lp'], metadata: { ok: true } });
      await store.saveMany(Array.from({ length: 1_500 }, (_, i) => ({ id: `b${i}`, namespace: 'lp', content: `batch row ${i} in one transaction` })));
      expect((await store.get('m1', 'lp'))?.metadata).toEqual({ ok: true });
      expect((await store.search('privilege saving', { namespace: 'lp' })).map((m) => m.id)).toEqual(['m1']);
      expect((await store.search('batch row', { namespace: 'lp', mode: 'any', limit: 3 })).length).toBe(3);
      expect((await store.list({ namespace: 'lp', tags: ['lp'] })).map((m) => m.id)).toEqual(['m1']);
      expect(await store.count('lp')).toBe(1_501);
      expect(await store.getAllNamespaces()).toEqual(['lp']);
      expect((await store.getTableStats()).totalMemories).toBe(1_501);
      expect(await store.delete('b0', 'lp')).toBe(true);
      expect((await store.getAllMemories('lp')).length).toBe(1_500);
      expect(await store.clear('lp')).toBe(1_500);
    }

    async function facts(sql: postgres.Sql, user: string) {
      const [r] = await sql`SELECT
          (SELECT rolsuper FROM pg_roles WHERE rolname = ${user}) AS superuser,
          (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'aimemo') AS schema_owner,
          (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public') AS public_objects`;
      return r as { superuser: boolean; schema_owner: string | null; public_objects: number };
    }

    beforeAll(async () => {
      admin = postgres(PG_URL!, { max: 1, onnotice: () => undefined });
    });

    afterAll(async () => {
      for (const db of databases) await db.drop();
      for (const name of roles) await admin.unsafe(`DROP ROLE IF EXISTS "${name}"`);
      await admin.end({ timeout: 5 });
    });

    it('an owner role with CONNECT and CREATE on the database creates its schema, migrates and runs everything', async () => {
      const db = await database('lp_create');
      const owner = await role('owner');
      await db.sql.unsafe(`REVOKE ALL ON DATABASE "${db.name}" FROM PUBLIC`);
      await db.sql.unsafe(`GRANT CONNECT, CREATE ON DATABASE "${db.name}" TO "${owner}"`);
      const store = new PostgresStore(as(db.url, owner), { poolSize: 2 });
      try {
        await exercise(store);
      } finally {
        await store.close();
      }
      expect(await facts(db.sql, owner)).toEqual({ superuser: false, schema_owner: owner, public_objects: 0 });
      const owned = await db.sql`SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                WHERE n.nspname = 'aimemo' AND c.relkind IN ('r', 'S') ORDER BY 1`;
      expect(owned.every((r) => r.owner === owner)).toBe(true);
      await db.sql.end();
      report('least privilege: owner with CREATE on the database', { role: 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', migrated: true, operations: 'all', errors: 0 });
    });

    it('an owner role without CREATE on the database migrates into a schema made for it', async () => {
      const db = await database('lp_schema');
      const owner = await role('schema_owner');
      await db.sql.unsafe(`REVOKE ALL ON DATABASE "${db.name}" FROM PUBLIC`);
      await db.sql.unsafe(`GRANT CONNECT ON DATABASE "${db.name}" TO "${owner}"`);
      await db.sql.unsafe(`CREATE SCHEMA aimemo AUTHORIZATION "${owner}"`);
      // Migration 0002 needs btree_gin, which only a role with CREATE on the database may install.
      const refused = new PostgresStore(as(db.url, owner), { poolSize: 1 });
      const error = await refused.ready().catch((e: unknown) => e);
      await refused.close();
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/permission denied to create extension "btree_gin".*CREATE EXTENSION btree_gin SCHEMA aimemo/);
      expect(await db.sql`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'aimemo'::regnamespace`).toEqual([{ n: 0 }]); // the batch rolled back
      await db.sql.unsafe(`CREATE EXTENSION btree_gin SCHEMA aimemo`);
      const store = new PostgresStore(as(db.url, owner), { poolSize: 2 });
      try {
        await exercise(store);
      } finally {
        await store.close();
      }
      const [priv] = await db.sql`SELECT has_database_privilege(${owner}, current_database(), 'CREATE') AS create`;
      expect(priv.create).toBe(false);
      expect(await facts(db.sql, owner)).toEqual({ superuser: false, schema_owner: owner, public_objects: 0 });
      await db.sql.end();
    });

    it('a runtime role with only USAGE and SELECT/INSERT/UPDATE/DELETE runs everything once the owner has migrated (autoMigrate: false)', async () => {
      const db = await database('lp_runtime');
      const owner = await role('mig');
      const runtime = await role('rw');
      await db.sql.unsafe(`REVOKE ALL ON DATABASE "${db.name}" FROM PUBLIC`);
      await db.sql.unsafe(`GRANT CONNECT ON DATABASE "${db.name}" TO "${owner}", "${runtime}"`);
      await db.sql.unsafe(`CREATE SCHEMA aimemo AUTHORIZATION "${owner}"`);
      await db.sql.unsafe(`CREATE EXTENSION btree_gin SCHEMA aimemo`);
      const migrator = new PostgresStore(as(db.url, owner), { poolSize: 1 });
      await migrator.ready();
      await migrator.close();
      // The grants docs/postgresql.md lists, given by the owner.
      const asOwner = postgres(as(db.url, owner), { max: 1, onnotice: () => undefined });
      await asOwner.unsafe(`GRANT USAGE ON SCHEMA aimemo TO "${runtime}"`);
      await asOwner.unsafe(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${RUNTIME_TABLES} TO "${runtime}"`);
      await asOwner.unsafe(`GRANT USAGE ON SEQUENCE aimemo.memories_seq TO "${runtime}"`);
      await asOwner.unsafe(`GRANT SELECT ON aimemo.__aimemo_migrations TO "${runtime}"`);
      await asOwner.end();

      const store = new PostgresStore(as(db.url, runtime), { poolSize: 2, autoMigrate: false });
      try {
        await exercise(store);
      } finally {
        await store.close();
      }
      // It can change rows, not the schema.
      const asRuntime = postgres(as(db.url, runtime), { max: 1, onnotice: () => undefined });
      await expect(asRuntime.unsafe('DROP TABLE aimemo.memories')).rejects.toThrow(/must be owner/);
      await expect(asRuntime.unsafe('CREATE TABLE aimemo.x (a int)')).rejects.toThrow(/permission denied/);
      await asRuntime.end();
      await db.sql.end();
      report('least privilege: runtime role', { grants: 'USAGE on schema; SELECT, INSERT, UPDATE, DELETE on memories; SELECT on migrations', operations: 'all', errors: 0 });
    });

    it('a role without CREATE on the database and no schema gets a MigrationError saying why, and nothing is created', async () => {
      const db = await database('lp_denied');
      const nobody = await role('nobody');
      await db.sql.unsafe(`REVOKE ALL ON DATABASE "${db.name}" FROM PUBLIC`);
      await db.sql.unsafe(`GRANT CONNECT ON DATABASE "${db.name}" TO "${nobody}"`);
      const store = new PostgresStore(as(db.url, nobody), { poolSize: 1 });
      const error = await store.save({ content: 'never written' }).catch((e: unknown) => e);
      await store.close();
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/permission denied for database/);
      expect(await facts(db.sql, nobody)).toEqual({ superuser: false, schema_owner: null, public_objects: 0 });
      await db.sql.end();
    });
  });
}
