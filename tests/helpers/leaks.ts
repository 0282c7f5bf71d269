/**
 * Whether an error (or anything on its `cause` chain) holds user data: every
 * own property, enumerable or not (postgres.js hides `parameters` and
 * `query`), and the message and stack, are searched for each secret.
 */
export function leakedSecrets(error: unknown, secrets: string[]): string[] {
  const found = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || value === undefined || seen.has(value)) return;
    if (typeof value === 'string') {
      for (const s of secrets) if (value.includes(s)) found.add(s);
      return;
    }
    if (typeof value !== 'object' && typeof value !== 'function') {
      visit(String(value), depth);
      return;
    }
    seen.add(value);
    for (const key of Object.getOwnPropertyNames(value)) {
      let v: unknown;
      try {
        v = (value as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      visit(v, depth + 1);
    }
    if (value instanceof Error) {
      visit(value.message, depth + 1);
      visit(value.stack, depth + 1);
      visit(value.cause, depth + 1);
    }
  };
  visit(error, 0);
  return [...found];
}
