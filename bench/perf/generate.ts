/**
 * Deterministic data and queries for `npm run bench` (bench/perf.ts).
 *
 * Everything comes from seeded PRNGs (mulberry32), so every run and every
 * machine sees the same memories, ids and queries. Memories are streamed
 * (`generateMemories` is a generator): a million rows are never held at once.
 *
 * - 100 namespaces `user-001` … `user-100`, sizes Zipf (s = 1): `user-001`
 *   holds about 19 % of the memories, `user-100` about 0.2 %.
 * - A vocabulary of 20,000 synthetic words (letters only, 4-10 characters,
 *   unique, pronounceable consonant-vowel syllables ending in a, o or u, so
 *   neither FTS5's porter nor PostgreSQL's english stemmer changes them),
 *   drawn with Zipf (s = 1.05) frequencies: word 0 is the most frequent.
 * - 8-40 words of content, 0-3 of 30 tags (Zipf), metadata `{ source, turn }`,
 *   timestamps increasing (1-60 s apart, across namespaces, so increasing in
 *   each), ids formatted as UUID v7 from the timestamp.
 */
import type { NewMemory, Where } from '../../src';
import { encodeCursor } from '../../src/store/cursor';
import { isStopWord } from '../../src/search/stop-words';

/** Bump whenever the generated data changes: cached databases with another marker are rebuilt. */
export const GENERATOR_VERSION = 'perf-generator-1';

export const SIZES = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 } as const;
export type SizeName = keyof typeof SIZES;

export const NAMESPACE_COUNT = 100;
export const VOCABULARY_SIZE = 20_000;
const DATA_SEED = 20_240_501;
const VOCABULARY_SEED = 7;
const START = Date.UTC(2024, 0, 1);

/** mulberry32: a small, fast seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples 0 … n-1 with probability proportional to 1 / (k + 1)^s. */
export class Zipf {
  readonly #cumulative: Float64Array;

  constructor(n: number, s: number) {
    this.#cumulative = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.#cumulative[k] = sum += 1 / Math.pow(k + 1, s);
  }

  /** The share of draws that land on `k`. */
  share(k: number): number {
    const c = this.#cumulative;
    return (c[k] - (k ? c[k - 1] : 0)) / c[c.length - 1];
  }

  sample(random: () => number): number {
    const c = this.#cumulative;
    const x = random() * c[c.length - 1];
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (random: () => number, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

// ---------------------------------------------------------------- vocabulary

const ONSETS = ['b', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'kr', 'pl', 'st', 'tr', 'sk', 'gl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];
const CODAS = ['', '', '', 'n', 'r', 'l', 'm', 'k'];
/** Final vowels no stemmer strips (no -e, -y, -s, -ed, -ing, -ly; a consonant always precedes, so never -ou). */
const FINAL_VOWELS = ['a', 'o', 'u'];

function makeWord(random: () => number): string {
  let word = '';
  const syllables = between(random, 2, 4);
  for (let i = 1; i < syllables; i++) word += pick(random, ONSETS) + pick(random, VOWELS) + pick(random, CODAS);
  return word + pick(random, ONSETS) + pick(random, FINAL_VOWELS);
}

/** The 20,000 words, most frequent first. */
export const VOCABULARY: readonly string[] = (() => {
  const random = mulberry32(VOCABULARY_SEED);
  const words = new Set<string>();
  while (words.size < VOCABULARY_SIZE) {
    const w = makeWord(random);
    if (w.length >= 4 && w.length <= 10 && !isStopWord(w)) words.add(w);
  }
  return [...words];
})();

export const WORD_FREQUENCY = new Zipf(VOCABULARY_SIZE, 1.05);

/** Frequency bands, as ranks (0 = most frequent). */
export const BANDS = {
  top: [0, 10],
  frequent: [10, 100],
  mid: [100, 2000],
  rare: [5000, VOCABULARY_SIZE],
} as const satisfies Record<string, readonly [number, number]>;

export const wordInBand = (random: () => number, band: keyof typeof BANDS): string =>
  VOCABULARY[between(random, BANDS[band][0], BANDS[band][1] - 1)];

const RANK = new Map(VOCABULARY.map((w, i) => [w, i]));
export const rankOf = (word: string): number => RANK.get(word) ?? -1;

// ---------------------------------------------------------------- tags, namespaces

export const TAGS = [
  'project', 'preference', 'todo', 'meeting', 'idea', 'bug', 'feature', 'personal', 'work', 'travel',
  'health', 'finance', 'family', 'shopping', 'learning', 'reading', 'music', 'food', 'sport', 'deadline',
  'contact', 'location', 'schedule', 'reminder', 'question', 'decision', 'feedback', 'goal', 'habit', 'event',
] as const;
const TAG_FREQUENCY = new Zipf(TAGS.length, 1);
const SOURCES = ['chat', 'chat', 'chat', 'doc', 'email', 'note', 'web'] as const;

export const namespaceName = (i: number): string => `user-${String(i + 1).padStart(3, '0')}`;
const READ_NAMESPACES = Array.from({ length: NAMESPACE_COUNT }, (_, i) => namespaceName(i));

/** Memories per namespace: Zipf (s = 1) shares of `total`, rounded by largest remainder, at least 1 each. */
export function namespaceSizes(total: number): number[] {
  const zipf = new Zipf(NAMESPACE_COUNT, 1);
  const exact = Array.from({ length: NAMESPACE_COUNT }, (_, k) => zipf.share(k) * total);
  const sizes = exact.map((x) => Math.max(1, Math.floor(x)));
  let missing = total - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, k) => [x - Math.floor(x), k]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let i = 0; missing > 0; i = (i + 1) % NAMESPACE_COUNT, missing--) sizes[byRemainder[i][1]]++;
  return sizes;
}

// ---------------------------------------------------------------- memories

export interface GeneratedMemory extends NewMemory {
  id: string;
  namespace: string;
  content: string;
  tags: string[];
  metadata: { source: string; turn: number };
  timestamp: Date;
}

function content(random: () => number): string {
  const n = between(random, 8, 40);
  const words = new Array<string>(n);
  for (let i = 0; i < n; i++) words[i] = VOCABULARY[WORD_FREQUENCY.sample(random)];
  return words.join(' ');
}

function tags(random: () => number): string[] {
  const n = between(random, 0, 3);
  const chosen = new Set<string>();
  for (let tries = 0; chosen.size < n && tries < 20; tries++) chosen.add(TAGS[TAG_FREQUENCY.sample(random)]);
  return [...chosen];
}

const hex = (value: number, digits: number): string => Math.floor(value).toString(16).padStart(digits, '0');

/** A UUID v7 layout for `ms`, its random bits from `random` (ids sort by time, like the library's). */
function uuidFor(ms: number, random: () => number): string {
  const t = hex(ms, 12);
  const a = hex(random() * 0x1000, 3);
  const b = hex(0x8000 + random() * 0x4000, 4);
  const c = hex(random() * 0x1000000, 6) + hex(random() * 0x1000000, 6);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${a}-${b}-${c}`;
}

/**
 * The data set of `total` memories, in time order. Each memory's namespace is
 * drawn in proportion to what that namespace still has to receive, so every
 * namespace ends with exactly its Zipf size while all grow side by side.
 */
export function* generateMemories(total: number): Generator<GeneratedMemory> {
  const random = mulberry32(DATA_SEED);
  const remaining = namespaceSizes(total);
  const turns = new Array<number>(NAMESPACE_COUNT).fill(0);
  let left = total;
  let clock = START;
  while (left > 0) {
    let x = Math.floor(random() * left);
    let k = 0;
    while (x >= remaining[k]) x -= remaining[k++];
    remaining[k]--;
    left--;
    clock += 1000 + Math.floor(random() * 59_000);
    yield {
      id: uuidFor(clock, random),
      namespace: namespaceName(k),
      content: content(random),
      tags: tags(random),
      metadata: { source: pick(random, SOURCES), turn: ++turns[k] },
      timestamp: new Date(clock),
    };
  }
}

/**
 * No generated memory is later than this (memories are at most 60 s apart).
 * What the write operations save carries the time of saving, later still, so
 * rows an interrupted run left behind can be told apart and removed.
 */
export const datasetEnd = (total: number): Date => new Date(START + total * 60_000);

/** Batches of `size` from an iterable, one at a time. */
export function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** New memories for the write operations (no id, no timestamp: the library assigns them), namespaces weighted by size. */
export function* newMemories(total: number, seed: number): Generator<NewMemory & { namespace: string }> {
  const random = mulberry32(seed);
  const sizes = namespaceSizes(total);
  for (;;) {
    const k = weightedNamespace(random, sizes, total);
    yield { namespace: namespaceName(k), content: content(random), tags: tags(random), metadata: { source: pick(random, SOURCES), turn: 0 } };
  }
}

function weightedNamespace(random: () => number, sizes: number[], total: number): number {
  let x = Math.floor(random() * total);
  let k = 0;
  while (x >= sizes[k]) x -= sizes[k++];
  return k;
}

// ---------------------------------------------------------------- queries

export const READ_CLASSES = [
  'common word',
  'two words',
  'phrase',
  'prefix',
  'OR of three',
  'tags',
  'list tags',
  'mode any',
  'getContext',
  'get',
  'where eq',
  'where range',
  'where range (index)',
  'since window',
  'listPage deep',
] as const;

/**
 * The read classes that need the metadata expression index on `turn` (declared
 * before they run, dropped after, so the unindexed class measures without it).
 */
export const INDEXED_CLASSES: readonly ReadClass[] = ['where range (index)'];
export const BENCH_INDEX = { path: 'turn', type: 'number' } as const;
export type ReadClass = (typeof READ_CLASSES)[number];

export interface ReadQuery {
  cls: ReadClass;
  namespace: string;
  /** The search text (search, mode any, getContext). */
  text?: string;
  tags?: string[];
  /** For `get`. */
  id?: string;
  /** A metadata filter (`where …` classes). */
  where?: Where;
  since?: Date;
  until?: Date;
  /** A listPage cursor (`listPage deep`). */
  cursor?: string;
}

/** A few memories of every namespace (reservoir samples from one pass over the stream): phrases, ids and tags that exist. */
export interface Samples {
  byNamespace: Map<string, GeneratedMemory[]>;
}

export function sampleMemories(total: number, perNamespace = 64): Samples {
  const random = mulberry32(DATA_SEED ^ 0x5a5a5a5a);
  const byNamespace = new Map<string, GeneratedMemory[]>();
  const seen = new Map<string, number>();
  for (const m of generateMemories(total)) {
    const n = (seen.get(m.namespace) ?? 0) + 1;
    seen.set(m.namespace, n);
    let kept = byNamespace.get(m.namespace);
    if (!kept) byNamespace.set(m.namespace, (kept = []));
    if (kept.length < perNamespace) kept.push(m);
    else {
      const j = Math.floor(random() * n);
      if (j < perNamespace) kept[j] = m;
    }
  }
  return { byNamespace };
}

const QUESTION_WORDS = ['what', 'when', 'where', 'how', 'why', 'who', 'which'];
const FILLERS = ['did', 'we', 'i', 'the', 'about', 'and', 'of', 'to', 'was', 'my', 'for', 'with', 'on', 'that', 'you', 'me', 'do', 'have', 'is', 'our'];
for (const w of [...QUESTION_WORDS, ...FILLERS]) if (!isStopWord(w)) throw new Error(`bench generator: '${w}' is not a stop word`);

/**
 * `count` queries of one class, seeded by class. Namespaces: every third query
 * is on the largest namespace (`user-001`), the others are drawn weighted by
 * namespace size.
 */
export function generateQueries(cls: ReadClass, total: number, count: number, samples: Samples): ReadQuery[] {
  // the indexed range measures the very queries of the unindexed one
  const random = mulberry32(DATA_SEED + 1 + READ_CLASSES.indexOf(cls === 'where range (index)' ? 'where range' : cls) * 7919);
  const sizes = namespaceSizes(total);
  const queries: ReadQuery[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = namespaceName(i % 3 === 0 ? 0 : weightedNamespace(random, sizes, total));
    const pool = samples.byNamespace.get(namespace)!;
    const memory = () => pick(random, pool);
    const wordsOf = (m: GeneratedMemory) => m.content.split(' ');
    switch (cls) {
      case 'common word':
        queries.push({ cls, namespace, text: wordInBand(random, 'top') });
        break;
      case 'two words': {
        // Two mid-frequency words a memory of the namespace holds together, when one holds two; else any two.
        const m = memory();
        const mid = [...new Set(wordsOf(m).filter((w) => rankOf(w) >= BANDS.mid[0] && rankOf(w) < BANDS.mid[1]))];
        const [a, b] = mid.length >= 2 ? [mid[0], mid[1 + Math.floor(random() * (mid.length - 1))]] : [wordInBand(random, 'mid'), wordInBand(random, 'mid')];
        queries.push({ cls, namespace, text: `${a} ${b}` });
        break;
      }
      case 'phrase': {
        const w = wordsOf(memory());
        const at = Math.floor(random() * (w.length - 1));
        queries.push({ cls, namespace, text: `"${w[at]} ${w[at + 1]}"` });
        break;
      }
      case 'prefix':
        queries.push({ cls, namespace, text: `${wordInBand(random, 'mid').slice(0, 4)}*` });
        break;
      case 'OR of three':
        queries.push({ cls, namespace, text: `${wordInBand(random, 'top')} OR ${wordInBand(random, 'mid')} OR ${wordInBand(random, 'rare')}` });
        break;
      case 'tags': {
        // Two words and a tag of one tagged memory of the namespace: at least that memory matches.
        const tagged = pool.filter((m) => m.tags.length > 0);
        const m = tagged.length ? pick(random, tagged) : memory();
        const w = wordsOf(m);
        const a = pick(random, w);
        const others = w.filter((x) => x !== a);
        const b = others.length ? pick(random, others) : a;
        queries.push({ cls, namespace, text: `${a} ${b}`, tags: [m.tags.length ? pick(random, m.tags) : TAGS[TAG_FREQUENCY.sample(random)]] });
        break;
      }
      case 'list tags':
        queries.push({ cls, namespace, tags: [TAGS[TAG_FREQUENCY.sample(random)]] });
        break;
      case 'mode any':
      case 'getContext':
        queries.push({ cls, namespace, text: question(random, wordsOf(memory())) });
        break;
      case 'get':
        queries.push({ cls, namespace, id: memory().id });
        break;
      case 'where eq':
        // a source (chat: 3 in 7 memories, the others 1 in 7), newest 10 of the namespace that have it
        queries.push({ cls, namespace, where: { source: pick(random, SOURCES) } });
        break;
      case 'where range':
      case 'where range (index)': {
        // 50 consecutive turns of the namespace (turn counts its memories, 1 … size), anywhere in its history
        const size = sizes[READ_NAMESPACES.indexOf(namespace)];
        const from = 1 + Math.floor(random() * Math.max(1, size - 50));
        queries.push({ cls, namespace, where: { turn: { $gte: from, $lt: from + 50 } } });
        break;
      }
      case 'since window': {
        // one day of the namespace's history, starting at one of its memories
        const since = memory().timestamp;
        queries.push({ cls, namespace, since, until: new Date(since.getTime() + 86_400_000) });
        break;
      }
      case 'listPage deep': {
        // the largest namespace, a page after one of its older sampled memories: deep in the list
        const largest = samples.byNamespace.get(namespaceName(0))!;
        const older = [...largest].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime()).slice(0, Math.max(1, Math.floor(largest.length / 2)));
        const at = pick(random, older);
        queries.push({ cls, namespace: namespaceName(0), cursor: encodeCursor(at) });
        break;
      }
    }
  }
  return queries;
}

/**
 * A question of 6-10 words: a question word, stop words, and 2-4 words of one
 * memory of the namespace (so some memory is relevant), e.g.
 * `What did we say about the kolamu and stiraru?`.
 */
function question(random: () => number, memoryWords: string[]): string {
  const length = between(random, 6, 10);
  const topics = between(random, 2, 4);
  const slots = new Array<string>(length);
  slots[0] = pick(random, QUESTION_WORDS);
  for (let i = 1; i < length; i++) slots[i] = pick(random, FILLERS);
  // Topic words go into distinct slots after the question word, the last slot always among them.
  const positions = new Set<number>([length - 1]);
  while (positions.size < topics) positions.add(1 + Math.floor(random() * (length - 1)));
  for (const p of positions) slots[p] = pick(random, memoryWords);
  const text = slots.join(' ');
  return `${text[0].toUpperCase()}${text.slice(1)}?`;
}
