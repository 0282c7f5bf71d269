/**
 * Drizzle wraps every driver error in `DrizzleQueryError`, whose message holds
 * the query's parameters, memory content included. Mappers look at the driver's
 * own error (its `cause`) and never pass the wrapper on. Recognised by shape
 * (`query`, `params`, `cause`), since its `name` is plain `Error` and an app may
 * hold a second copy of drizzle-orm.
 */
export function unwrapDriverError(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && 'query' in e && 'params' in e && e.cause !== undefined) e = e.cause;
  return e;
}
