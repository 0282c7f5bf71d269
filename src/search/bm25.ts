/**
 * BM25 as AIMemo defines it, once, for both backends (docs/search.md, "BM25").
 *
 * score(memory) = Σ over the query's scored words w of
 *   idf(w) · tf · (k1 + 1) / (tf + k1 · (1 − b + b · dl / avgdl))
 *
 * - idf(w) = ln(1 + (N − df + 0.5) / (df + 0.5)) (Lucene's; never negative);
 * - N: memories in the namespace; df: those holding the word; avgdl: their
 *   average length; all three counted in the namespace alone, so one
 *   namespace's answers never depend on another's memories;
 * - tf: how often the memory holds the word (its stem: FTS5's porter on
 *   SQLite, PostgreSQL's English snowball), dl: the memory's length, both in
 *   indexed words (English stop words are not indexed);
 * - k1 = 1.2, b = 0.75.
 *
 * Both backends read the same integers (N, df, tf, dl, total length) from
 * their index and compute the scores here, in JavaScript, in the same order,
 * so the same data gives bit-identical scores on SQLite and PostgreSQL.
 */

/** Term-frequency saturation. */
export const K1 = 1.2;
/** Length normalisation. */
export const B = 0.75;

/** Lucene's inverse document frequency: `ln(1 + (N − df + 0.5) / (df + 0.5))`. */
export function idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/**
 * The part of a word's score that depends on the memory: tf and length.
 * Rises with `tf` toward `K1 + 1` and falls with `dl`, so for a fixed tf the
 * shortest memories weigh most (what impact-ordered reading relies on).
 */
export function termWeight(tf: number, dl: number, avgdl: number): number {
  if (tf <= 0) return 0;
  return (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / avgdl));
}

/** The most a word can add to any memory's score: `idf · (K1 + 1)` (tf without bound). */
export function maxTermScore(wordIdf: number): number {
  return wordIdf * (K1 + 1);
}
