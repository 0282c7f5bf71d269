/**
 * What sits between the store and the server (`PostgresStoreOptions.pooler`).
 * `'none'`: the server itself, or a pooler in session mode. `'transaction'`:
 * a pooler in transaction mode (PgBouncer `pool_mode = transaction`,
 * Supabase's port 6543, Neon's `-pooler` hosts). Kept apart from the
 * connection code so the public types never import the optional `postgres`
 * package.
 */
export type PoolerMode = 'none' | 'transaction';
