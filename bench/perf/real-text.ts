/**
 * Real text for `npm run bench`: LoCoMo turns as memories, LoCoMo questions as
 * queries (issue 10). The synthetic data set's Zipf pseudo-words make
 * questions far more selective than natural language does (a speaker's name
 * is in half the turns; "like", "really", "great" in many): here one
 * namespace holds `size` memories (the development conversations' turns,
 * repeated with unique ids and later timestamps), and every question of the
 * development half is asked through mode 'any' (limit 10) and getContext.
 *
 * Measured twice, in the two states a store lives in: right after the load
 * (what an app that writes steadily sees: PostgreSQL's GIN pending list not
 * flushed, FTS5 segments not merged) and after `optimize({ vacuum: true })`.
 * The data is loaded fresh each run (a scratch SQLite file, a scratch
 * PostgreSQL database), since the first state does not survive a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, type NewMemory } from '../../src';
import { loadConversations, locomoCandidates, locomoMissing, type Conversation } from '../locomo';
import { DATA_DIR, databaseUrl, peakRssMiB } from './dataset';
import type { ReadQuery } from './generate';
import { measureRead, RawPostgres, RawSqlite, type Backend, type OperationResult } from './ops';

export const REAL_NAMESPACE = 'locomo-real';

/** The development conversations, or why they cannot be had. */
export function realTextSource(): { conversations: Conversation[] } | { missing: string } {
  const candidates = locomoCandidates(undefined);
  const found = candidates.find((c) => fs.existsSync(c));
  return found ? { conversations: loadConversations(found) } : { missing: locomoMissing(candidates) };
}

/** `size` memories of one namespace: every turn of every conversation, round after round, each round a year later. */
export function* realMemories(conversations: Conversation[], size: number): Generator<NewMemory> {
  const year = 365 * 86_400_000;
  let made = 0;
  for (let round = 0; made < size; round++) {
    for (const c of conversations) {
      for (const m of c.memories) {
        if (made >= size) return;
        made++;
        yield { id: `r${round}-${c.name}-${m.id}`, namespace: REAL_NAMESPACE, content: m.content, timestamp: new Date((m.timestamp as Date).getTime() + round * year) };
      }
    }
  }
}

/** `count` questions (the development questions in turn). */
export function realQueries(conversations: Conversation[], count: number, cls: 'mode any' | 'getContext'): ReadQuery[] {
  const questions = conversations.flatMap((c) => c.questions.map((q) => q.question));
  return Array.from({ length: count }, (_, i) => ({ cls, namespace: REAL_NAMESPACE, text: questions[(i * 7919) % questions.length] }));
}

export interface RealTextRun {
  results: OperationResult[];
  load: { rows: number; seconds: number; rate: number; peakRssMiB: number };
}

type Log = (line: string) => void;

/** Loads the namespace fresh on one backend and times mode 'any' and getContext after the load and after maintenance. */
export async function measureRealText(
  name: 'sqlite' | 'postgres',
  server: string,
  size: number,
  label: string,
  count: number,
  warmup: number,
  conversations: Conversation[],
  log: Log,
): Promise<RealTextRun> {
  const tag = `${Math.round(size / 1000)}k`;
  const file = path.join(DATA_DIR, `real-${tag}.db`);
  const database = `aimemo_bench_real_${tag}`;
  let admin: postgres.Sql | undefined;
  let store: SQLiteStore | PostgresStore;
  let raw: RawSqlite | RawPostgres;
  if (name === 'sqlite') {
    fs.mkdirSync(DATA_DIR, { recursive: true });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    store = new SQLiteStore(file);
  } else {
    admin = postgres(server, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE "${database}"`);
    store = new PostgresStore(databaseUrl(server, database));
  }
  try {
    log(`${label}: real text: loading ${size.toLocaleString('en-US')} LoCoMo turns into one namespace`);
    const started = performance.now();
    let inSaveMany = 0;
    let batch: NewMemory[] = [];
    const flush = async () => {
      const t = performance.now();
      await store.saveMany(batch);
      inSaveMany += performance.now() - t;
      batch = [];
    };
    for (const m of realMemories(conversations, size)) {
      batch.push(m);
      if (batch.length === 1000) await flush();
    }
    if (batch.length) await flush();
    const load = { rows: size, seconds: Math.round((performance.now() - started) / 10) / 100, rate: Math.round(size / (inSaveMany / 1000)), peakRssMiB: peakRssMiB() };
    raw = name === 'sqlite' ? new RawSqlite(file) : new RawPostgres(databaseUrl(server, database));
    const backend: Backend = { name, label, store, raw, written: new Map() };
    const results: OperationResult[] = [];
    const measure = async (state: string) => {
      for (const cls of ['mode any', 'getContext'] as const) {
        const r = await measureRead(backend, cls, realQueries(conversations, warmup + count, cls), warmup);
        r.name = `real ${tag} ${cls === 'mode any' ? 'any' : 'context'} (${state})`;
        results.push(r);
        log(`${label}: ${r.name}: done`);
      }
    };
    try {
      await measure('after load');
      await store.optimize({ vacuum: true });
      await measure('maintained');
    } finally {
      await raw.close();
    }
    return { results, load };
  } finally {
    await store.close();
    if (admin) {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    } else {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    }
  }
}
