import postgres from 'postgres';

/** The PostgreSQL server benchmarks run on: AIMEMO_BENCH_PG_URL, else AIMEMO_TEST_PG_URL; undefined when neither is set. */
export const BENCH_PG_URL = process.env.AIMEMO_BENCH_PG_URL ?? process.env.AIMEMO_TEST_PG_URL;

/** Runs `fn` with the URL of a new, empty database on `server`, and drops that database afterwards. */
export async function withScratchDatabase<T>(server: string, label: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `aimemo_bench_${label}_${process.pid}`;
  const admin = postgres(server, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}
