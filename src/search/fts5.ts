/**
 * Compiles a {@link QueryNode} to an SQLite FTS5 `MATCH` expression.
 *
 * Every word is written as an FTS5 string (`"word"`, inner quotes doubled), so
 * nothing the user typed is read as FTS5 syntax; the expression itself is then
 * bound as a parameter, never pasted into SQL.
 *
 * | query                      | FTS5 MATCH expression                  |
 * | -------------------------- | -------------------------------------- |
 * | `fastapi auth*`            | `"fastapi" AND "auth"*`                |
 * | `"exact phrase"`           | `"exact phrase"`                       |
 * | `(a OR b) NOT c`           | `("a" OR "b") NOT "c"`                 |
 *
 * @see https://sqlite.org/fts5.html#full_text_query_syntax
 */
import type { QueryNode } from './query';

const quote = (word: string) => `"${word.replace(/"/g, '""')}"`;

export function toFts5(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return node.prefix ? `${quote(node.word)}*` : quote(node.word);
    case 'phrase':
      return quote(node.words.join(' '));
    case 'and':
      return node.children.map(group).join(' AND ');
    case 'or':
      return node.children.map(group).join(' OR ');
    case 'not':
      return `${group(node.positive)} NOT ${group(node.negative)}`;
  }
}

function group(node: QueryNode): string {
  return node.kind === 'term' || node.kind === 'phrase' ? toFts5(node) : `(${toFts5(node)})`;
}
