/**
 * Search, the same on every dialect: the exact BM25 top-k of the namespace
 * (search/top-k.ts, over the dialect's index), then, in mode 'any', the
 * re-ranking by coverage and context (search/rerank.ts). Scores are scaled to
 * [0, 1] (docs/search.md, "Scores").
 */
import { anchors, RANKING, rerank, type Ranked } from '../search/rerank';
import type { QueryNode } from '../search/query';
import { prepare, topK, type DocKey, type PreparedQuery, type ScoredHit } from '../search/top-k';
import type { SearchResult } from '../types';
import type { KeyedMemory, MemoryRepository, SearchParams } from './repository';

/** A pool memory: the row and its BM25 score. */
type Candidate = Ranked & { row: KeyedMemory };

/** Rows for these hits, in the hits' order, each with its BM25 score. */
async function candidates(repository: MemoryRepository, namespace: string, hits: ScoredHit<DocKey>[]): Promise<Candidate[]> {
  const rows = new Map((await repository.fetch(namespace, hits.map((h) => h.key))).map((r) => [r.key, r]));
  return hits.flatMap((h) => {
    const row = rows.get(h.key);
    return row ? [{ key: h.key, seq: h.seq, content: row.memory.content, timestamp: row.memory.timestamp, score: h.score, row }] : [];
  });
}

/** Scales a raw score by the most the query can score (1 for a result that cannot be beaten). */
function scaled(raw: number, ceiling: number): number {
  return ceiling > 0 ? Math.min(1, Math.max(0, raw / ceiling)) : 0;
}

/** Mode 'all': the exact BM25 top-`limit` of the matches. */
export async function searchAll(repository: MemoryRepository, tree: QueryNode, params: SearchParams): Promise<SearchResult[]> {
  const prepared = await prepare(repository.index, params.namespace, tree);
  const hits = await topK(repository.index, params.namespace, prepared, params, params.limit);
  const ceiling = prepared.maxScore;
  return (await candidates(repository, params.namespace, hits)).map((c) => ({ ...c.row.memory, score: scaled(c.score, ceiling) }));
}

/**
 * Mode 'any': the exact BM25 pool (the best {@link RANKING}.pool), the
 * memories saved next to its best, those of them that match (scored the same
 * way), re-ranked by coverage and context.
 */
export async function searchAny(repository: MemoryRepository, tree: QueryNode, params: SearchParams): Promise<SearchResult[]> {
  const { index } = repository;
  const prepared = await prepare(index, params.namespace, tree);
  const pool = await candidates(repository, params.namespace, await topK(index, params.namespace, prepared, params, Math.max(params.limit, RANKING.pool)));
  const best = anchors(pool, tree, RANKING.anchors);
  const near = await repository.neighbors(
    params.namespace,
    best.map((c) => ({ key: c.key, ts: c.timestamp.getTime(), seq: c.seq })),
    RANKING.window,
    params.now,
  );
  const known = new Set(pool.map((c) => c.key));
  const missing = [...new Set([...near.values()].flat())].filter((k) => !known.has(k));
  const extra = missing.length ? await neighbours(repository, params, prepared, missing) : [];
  const ranked = rerank([...pool, ...extra], tree, near).slice(0, params.limit);
  const ceiling = prepared.maxScore * (1 + RANKING.contextWeight);
  return ranked.map((c) => ({ ...c.row.memory, score: scaled(c.score, ceiling) }));
}

/** The neighbours that match the query and pass the filters, scored like the pool. */
async function neighbours(repository: MemoryRepository, params: SearchParams, prepared: PreparedQuery<DocKey>, keys: DocKey[]): Promise<Candidate[]> {
  const docs = await repository.index.docs(params.namespace, keys, prepared.terms, prepared.query, params);
  const hits = docs.filter((d) => d.match).map((d) => ({ key: d.key, seq: d.seq, ts: d.ts, score: prepared.score(d.tf, d.dl) }));
  return candidates(repository, params.namespace, hits);
}
