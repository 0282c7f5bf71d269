/**
 * Words as SQLite's FTS5 index holds them, for the search index
 * (migration 0003_search-index).
 *
 * A memory's indexed words are its words (`words()`, the letters-and-digits
 * runs FTS5's `unicode61` tokenizer splits text into, lower-cased) minus the
 * English stop words, each reduced to its stem by FTS5's own `porter`
 * tokenizer, so that the index agrees with what `memories_fts` matches.
 * better-sqlite3 cannot call a tokenizer directly, so stems come from a
 * temporary, contentless FTS5 table on the same connection: each unknown word
 * is inserted as one row and read back through `fts5vocab` (one statement per
 * batch of words). Stems are kept in a bounded cache: a namespace's
 * vocabulary grows slowly, so nearly every word after the first few thousand
 * memories is a cache hit.
 *
 * @see https://sqlite.org/fts5.html#the_fts5vocab_virtual_table_module
 */
import type BetterSqlite3 from 'better-sqlite3';
import { words } from '../../search/query';
import { isStopWord } from '../../search/stop-words';

/** Stems kept per connection. */
const CACHE = 200_000;

const STEM_TABLE = 'aimemo_stem';
const STEM_VOCAB = 'aimemo_stem_vocab';

/** What indexing a text gives: each stem with its count, and the number of indexed words. */
export interface IndexedText {
  tf: Map<string, number>;
  dl: number;
}

export class Stemmer {
  readonly #cache = new Map<string, string[]>();
  #insert: BetterSqlite3.Statement | undefined;
  #read: BetterSqlite3.Statement | undefined;
  #clear: BetterSqlite3.Statement | undefined;

  constructor(private readonly db: BetterSqlite3.Database) {}

  /** The temporary tables, made on first use (a connection's `temp` schema is its own). */
  private prepare(): void {
    if (this.#insert) return;
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.${STEM_TABLE} USING fts5(w, content='', tokenize='porter unicode61 remove_diacritics 0')`);
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.${STEM_VOCAB} USING fts5vocab(temp, ${STEM_TABLE}, instance)`);
    this.#insert = this.db.prepare(`INSERT INTO temp.${STEM_TABLE} (rowid, w) SELECT key + 1, value FROM json_each(?)`);
    this.#read = this.db.prepare(`SELECT doc, term FROM temp.${STEM_VOCAB} ORDER BY doc, "offset"`);
    this.#clear = this.db.prepare(`INSERT INTO temp.${STEM_TABLE} (${STEM_TABLE}) VALUES ('delete-all')`);
  }

  /** The stems FTS5 makes of each word (one, as a rule), in order. */
  stems(list: string[]): string[][] {
    const missing = [...new Set(list.filter((w) => !this.#cache.has(w)))];
    if (missing.length > 0) {
      this.prepare();
      const found = missing.map((): string[] => []);
      this.#insert!.run(JSON.stringify(missing));
      for (const r of this.#read!.all() as { doc: number; term: string }[]) found[r.doc - 1].push(r.term);
      this.#clear!.run();
      if (this.#cache.size + missing.length > CACHE) this.#cache.clear();
      missing.forEach((w, i) => this.#cache.set(w, found[i]));
    }
    return list.map((w) => this.#cache.get(w)!);
  }

  /** The stem of one query word ('' when FTS5 makes none of it). */
  stem(word: string): string {
    return this.stems([word])[0][0] ?? '';
  }

  /** A text's indexed words: stems of its words that are not stop words, counted. */
  index(text: string): IndexedText {
    const kept = words(text).filter((w) => !isStopWord(w));
    const tf = new Map<string, number>();
    let dl = 0;
    for (const group of this.stems(kept)) {
      for (const stem of group) {
        tf.set(stem, (tf.get(stem) ?? 0) + 1);
        dl++;
      }
    }
    return { tf, dl };
  }
}
