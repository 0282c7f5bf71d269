/**
 * Parses what a user typed into a search tree, once, for every backend.
 *
 * The grammar (docs/contract.md and docs/search.md, "Search syntax"), loosest binding first:
 *
 *     query   := or*                        stray ')' are skipped
 *     or      := and ('OR' and)*
 *     and     := not (['AND'] not)*          juxtaposition is an implicit AND
 *     not     := primary ('NOT' primary)*    `a NOT b`: a and not b
 *     primary := word | word'*' | '"' words '"' | '(' or ')'
 *
 * Operators are the upper-case words AND, OR, NOT; lower-case ones are plain
 * words. A word is a run of letters and digits; everything else separates
 * words, so quotes, brackets, `:`, `^`, `-` or SQL can never reach a database's
 * query syntax. Private-use characters (U+E000–U+F8FF, planes 15–16: icon
 * fonts) separate words too: FTS5's `unicode61` would keep them in a token,
 * but PostgreSQL's parser reads them as spaces, so a stray icon in a query
 * would make SQLite find nothing while PostgreSQL ignored it. English stop
 * words are dropped (see `stop-words.ts`).
 *
 * {@link parseQuery} never throws: a missing operand, an unclosed bracket or
 * quote, a query of only stop words all end in a smaller tree, or `null`
 * (which finds nothing).
 *
 * Every query is bounded before any work depends on its size
 * ({@link QUERY_LIMITS}): brackets nest at most 5 deep (deeper ones are read
 * as spaces), reading stops after 64 distinct words (phrase words included)
 * or 1,000 tokens, a word is read up to 2,047 characters, `a NOT b NOT c` becomes `a NOT (b OR c)`, and repeated
 * alternatives (`fox fox`) count once. So the tree is at most 24 operators
 * deep and 64 words wide whatever the input: FTS5's parser stack (about 30
 * nested groups) and every recursive walk of the tree stay far from their
 * limits, and both backends get the same tree.
 */
import { isStopWord } from './stop-words';

/** A parsed query. Words are lower-cased; stop words are gone (except inside phrases). */
export type QueryNode =
  | { kind: 'term'; word: string; prefix: boolean }
  | { kind: 'phrase'; words: string[] }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; positive: QueryNode; negative: QueryNode };

/** `'all'`: juxtaposed terms must all match. `'any'`: juxtaposed terms become OR. */
export type SearchMode = 'all' | 'any';

type Token =
  | { t: 'word'; word: string; prefix: boolean }
  | { t: 'phrase'; words: string[] }
  | { t: 'AND' | 'OR' | 'NOT' | '(' | ')' };

/** Letters and digits: token characters of FTS5's unicode61 (L*, N*; not Co, see above) and of PostgreSQL. */
/** One letter or digit (not a private-use character: see the module comment). */
const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/**
 * Where the run of letters and digits that starts at `i` ends. Scanned by
 * hand, one code point at a time: a regular expression over a run of
 * millions of letters exhausts V8's backtracking stack (RangeError).
 */
function runEnd(text: string, i: number, end = text.length): number {
  let j = i;
  while (j < end) {
    const code = text.charCodeAt(j);
    if (code < 0x80) {
      // ASCII, the common case, without a regular expression: digits and Latin letters.
      if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) {
        j++;
        continue;
      }
      break;
    }
    const width = code >= 0xd800 && code <= 0xdbff && j + 1 < end ? 2 : 1;
    if (!WORD_CHAR.test(text.slice(j, j + width))) break;
    j += width;
  }
  return j;
}

/** Each run of letters and digits in `text[from, to)`, as `[start, end]`, in order. */
function* runs(text: string, from = 0, to = text.length): Generator<[number, number]> {
  for (let i = from; i < to; ) {
    const end = runEnd(text, i, to);
    if (end > i) {
      yield [i, end];
      i = end;
    } else i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  }
}

/** Splits text into lower-cased words, exactly as the backends' tokenizers do. */
export function words(text: string): string[] {
  const found: string[] = [];
  for (const [start, end] of runs(text)) found.push(text.slice(start, end).toLowerCase());
  return found;
}

/**
 * How far a query is read (see the module comment). Beyond a limit the rest
 * of the query is ignored (or, for brackets, read as spaces): the query still
 * never throws, and gives the same tree on every backend.
 */
export const QUERY_LIMITS = Object.freeze({
  /** Brackets nested deeper than this are read as spaces. */
  bracketDepth: 5,
  /** Distinct words (plus every word inside a phrase) read; later words are ignored. */
  words: 64,
  /** Tokens (words, phrases, operators, brackets) read; the rest is ignored. */
  tokens: 1000,
  /** Characters of one word; the rest of a longer one is not read (PostgreSQL indexes no word over 2,047 bytes). */
  wordChars: 2047,
});

/** A word as the query holds it: at most `wordChars` characters (never splitting a surrogate pair), lower-cased. */
function queryWord(text: string, start: number, end: number): string {
  let stop = Math.min(end, start + QUERY_LIMITS.wordChars);
  if (stop < end && /[\uD800-\uDBFF]/.test(text[stop - 1])) stop--;
  return text.slice(start, stop).toLowerCase();
}

/**
 * Splits the query into tokens, scanning it once by hand and stopping at the
 * limits: the work is linear in the input and the output bounded, however
 * long the string (a regular expression would overflow on long runs).
 */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const distinct = new Set<string>();
  let budget = QUERY_LIMITS.words;
  let depth = 0;
  let ignored = 0; // '(' read as spaces whose ')' is still to come
  for (let i = 0; i < input.length; ) {
    if (tokens.length >= QUERY_LIMITS.tokens || budget <= 0) break;
    const c = input[i];
    if (c === '"') {
      const close = input.indexOf('"', i + 1);
      const end = close < 0 ? input.length : close;
      const kept: string[] = [];
      for (const [start, stop] of runs(input, i + 1, end)) {
        if (budget <= 0) break;
        kept.push(queryWord(input, start, stop));
        budget--;
      }
      tokens.push({ t: 'phrase', words: kept });
      i = close < 0 ? end : close + 1;
      continue;
    }
    if (c === '(') {
      if (depth < QUERY_LIMITS.bracketDepth) {
        depth++;
        tokens.push({ t: '(' });
      } else ignored++;
      i++;
      continue;
    }
    if (c === ')') {
      if (ignored > 0) ignored--;
      else {
        if (depth > 0) depth--;
        tokens.push({ t: ')' });
      }
      i++;
      continue;
    }
    const start = i;
    const end = runEnd(input, start);
    if (end === start) {
      i += input.codePointAt(i)! > 0xffff ? 2 : 1;
      continue;
    }
    const prefix = input[end] === '*';
    i = prefix ? end + 1 : end;
    const text = end - start <= 3 ? input.slice(start, end) : '';
    if (!prefix && (text === 'AND' || text === 'OR' || text === 'NOT')) {
      tokens.push({ t: text });
      continue;
    }
    const lower = queryWord(input, start, end);
    const key = `${prefix ? '*' : ' '}${lower}`;
    if (!distinct.has(key) && !isStopWord(lower)) {
      distinct.add(key);
      budget--;
    }
    tokens.push({ t: 'word', word: lower, prefix });
  }
  return tokens;
}

/** The shape of the tree before stop words are removed: implicit ANDs are kept apart. */
type Raw =
  | { kind: 'term'; word: string; prefix: boolean }
  | { kind: 'phrase'; words: string[] }
  | { kind: 'and'; children: Raw[]; implicit: boolean }
  | { kind: 'or'; children: Raw[] }
  | { kind: 'not'; positive: Raw; negative: Raw };

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token['t'] | undefined {
    return this.tokens[this.pos]?.t;
  }

  parseQuery(): Raw | null {
    const parts: Raw[] = [];
    while (this.pos < this.tokens.length) {
      const part = this.parseOr();
      if (part) parts.push(part);
      if (this.peek() === ')') this.pos++; // a ')' that closes nothing
    }
    return join('and', parts, true);
  }

  private parseOr(): Raw | null {
    const parts: Raw[] = [];
    const first = this.parseAnd();
    if (first) parts.push(first);
    while (this.peek() === 'OR') {
      this.pos++;
      const next = this.parseAnd();
      if (next) parts.push(next);
    }
    return join('or', parts);
  }

  /** Runs joined by an explicit AND form one group; groups side by side are an implicit AND. */
  private parseAnd(): Raw | null {
    const groups: Raw[][] = [];
    let joinNext = false;
    for (;;) {
      const t = this.peek();
      if (t === undefined || t === 'OR' || t === ')') break;
      if (t === 'AND') {
        this.pos++;
        joinNext = groups.length > 0;
        continue;
      }
      const node = this.parseNot();
      if (!node) continue;
      if (joinNext) groups[groups.length - 1].push(node);
      else groups.push([node]);
      joinNext = false;
    }
    const joined = groups.map((g) => join('and', g, false)).filter((n): n is Raw => n !== null);
    return join('and', joined, true);
  }

  /** `a NOT b NOT c` is `a NOT (b OR c)`: one node however long the chain, so the tree stays shallow. */
  private parseNot(): Raw | null {
    const left = this.parsePrimary();
    const excluded: Raw[] = [];
    while (this.peek() === 'NOT') {
      this.pos++;
      const right = this.parsePrimary();
      if (right) excluded.push(right);
    }
    // FTS5 has no unary NOT: a NOT with nothing before it excludes from nothing.
    if (!left || excluded.length === 0) return left;
    return { kind: 'not', positive: left, negative: join('or', excluded)! };
  }

  private parsePrimary(): Raw | null {
    const tok = this.tokens[this.pos];
    if (!tok) return null;
    switch (tok.t) {
      case 'word':
        this.pos++;
        return { kind: 'term', word: tok.word, prefix: tok.prefix };
      case 'phrase':
        this.pos++;
        return { kind: 'phrase', words: tok.words };
      case '(': {
        this.pos++;
        const inner = this.parseOr(); // stops only at ')' or the end
        if (this.peek() === ')') this.pos++;
        return inner;
      }
      default:
        return null; // an operator where an operand belongs: the caller skips it
    }
  }
}

function join(kind: 'and', parts: Raw[], implicit: boolean): Raw | null;
function join(kind: 'or', parts: Raw[]): Raw | null;
function join(kind: 'and' | 'or', parts: Raw[], implicit = false): Raw | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  return kind === 'and' ? { kind, children: parts, implicit } : { kind, children: parts };
}

/** Drops stop words, applies the mode to implicit ANDs, and flattens what is left. */
function normalise(node: Raw, mode: SearchMode): QueryNode | null {
  switch (node.kind) {
    case 'term':
      return isStopWord(node.word) ? null : { kind: 'term', word: node.word, prefix: node.prefix };
    case 'phrase': {
      // PostgreSQL's phraseto_tsquery drops leading and trailing stop words; inner ones keep their place.
      let start = 0;
      let end = node.words.length;
      while (start < end && isStopWord(node.words[start])) start++;
      while (end > start && isStopWord(node.words[end - 1])) end--;
      const kept = node.words.slice(start, end);
      if (kept.length === 0) return null;
      if (kept.length === 1) return { kind: 'term', word: kept[0], prefix: false };
      return { kind: 'phrase', words: kept };
    }
    case 'not': {
      const positive = normalise(node.positive, mode);
      if (!positive) return null;
      const negative = normalise(node.negative, mode);
      return negative ? { kind: 'not', positive, negative } : positive;
    }
    case 'and':
    case 'or': {
      const kind = node.kind === 'and' && node.implicit && mode === 'any' ? 'or' : node.kind;
      const children: QueryNode[] = [];
      const seen = new Set<string>(); // `fox fox` is `fox`: an alternative repeated counts once
      const add = (c: QueryNode) => {
        const key = JSON.stringify(c);
        if (seen.has(key)) return;
        seen.add(key);
        children.push(c);
      };
      for (const child of node.children) {
        const c = normalise(child, mode);
        if (!c) continue;
        if (c.kind === kind) c.children.forEach(add);
        else add(c);
      }
      if (children.length === 0) return null;
      if (children.length === 1) return children[0];
      return { kind, children };
    }
  }
}

/**
 * Parses any string into a {@link QueryNode}, or `null` when it holds no word
 * that can match. Never throws.
 *
 * @example
 * parseQuery('fastapi "exact phrase" auth*', 'all')
 * // { kind: 'and', children: [term fastapi, phrase [exact, phrase], term auth (prefix)] }
 */
export function parseQuery(input: string, mode: SearchMode = 'all'): QueryNode | null {
  const raw = new Parser(tokenize(input)).parseQuery();
  return raw ? normalise(raw, mode) : null;
}

/**
 * The words a query asks for, in order, with whether each is a prefix: terms
 * and phrase words, not the words it excludes (the right side of NOT). What
 * ranking scores; the tree itself decides what matches.
 */
export function positiveWords(node: QueryNode): { word: string; prefix: boolean }[] {
  switch (node.kind) {
    case 'term':
      return [{ word: node.word, prefix: node.prefix }];
    case 'phrase':
      return node.words.map((word) => ({ word, prefix: false }));
    case 'not':
      return positiveWords(node.positive);
    default:
      return node.children.flatMap(positiveWords);
  }
}
