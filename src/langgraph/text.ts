/**
 * The searchable text of a LangGraph value: the strings at the value's
 * index fields (LangGraph's `index.fields` path syntax), joined by new lines.
 *
 * | field | text |
 * | --- | --- |
 * | `$` (the default) | every string in the value, at any depth |
 * | `title`, `metadata.title` | that field |
 * | `chapters[*].content`, `authors[0].name`, `authors[-1].name` | each, one or the last element's field |
 * | `{title,summary}`, `*` | several fields; every field of an object |
 *
 * A field that holds an object or an array contributes the strings inside
 * it; one that holds a number or a boolean, its text (`2023`, `true`), as in
 * LangGraph. Where LangGraph embeds `JSON.stringify` of an object, AIMemo
 * indexes its strings only, so keys and punctuation never become words.
 */

/** Splits a field path into tokens: `chapters[*].content` → `chapters`, `[*]`, `content`; `{a,b.c}` stays one token. */
export function tokenizeField(path: string): string[] {
  const tokens: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '[' || c === '{') {
      if (current) tokens.push(current);
      current = '';
      const close = c === '[' ? ']' : '}';
      let depth = 0;
      let group = '';
      for (; i < path.length; i++) {
        group += path[i];
        if (path[i] === c) depth += 1;
        else if (path[i] === close && --depth === 0) break;
      }
      tokens.push(group);
    } else if (c === '.') {
      if (current) tokens.push(current);
      current = '';
    } else current += c;
  }
  if (current) tokens.push(current);
  return tokens;
}

/** Every string inside `value` (object values and array elements, at any depth), in order. */
function strings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out);
}

/** What a field's final value contributes: strings inside it, or a number's or boolean's text. */
function leaf(value: unknown, out: string[]): void {
  if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
  else strings(value, out);
}

const own = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;

function extract(value: unknown, tokens: string[], pos: number, out: string[]): void {
  if (value === undefined || value === null) return;
  if (pos === tokens.length) return leaf(value, out);
  const token = tokens[pos];
  if (token.startsWith('[') && token.endsWith(']')) {
    if (!Array.isArray(value)) return;
    const index = token.slice(1, -1).trim();
    if (index === '*') {
      for (const item of value) extract(item, tokens, pos + 1, out);
    } else if (/^-?\d+$/.test(index)) {
      const i = Number(index) < 0 ? value.length + Number(index) : Number(index);
      if (i >= 0 && i < value.length) extract(value[i], tokens, pos + 1, out);
    }
  } else if (token.startsWith('{') && token.endsWith('}')) {
    for (const field of token.slice(1, -1).split(',')) {
      const nested = tokenizeField(field.trim());
      if (nested.length) extract(value, [...nested, ...tokens.slice(pos + 1)], 0, out);
    }
  } else if (token === '*') {
    const items = Array.isArray(value) ? value : typeof value === 'object' ? Object.values(value as object) : [];
    for (const item of items) extract(item, tokens, pos + 1, out);
  } else {
    extract(own(value, token), tokens, pos + 1, out);
  }
}

/** The text of `value` at `fields` (`['$']`: every string in it), joined by new lines. */
export function searchText(value: Record<string, unknown>, fields: readonly string[]): string {
  const out: string[] = [];
  for (const field of fields) {
    if (field === '$') strings(value, out);
    else extract(value, tokenizeField(field), 0, out);
  }
  return out.join('\n');
}
