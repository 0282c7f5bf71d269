/**
 * Compiles a {@link QueryNode} to PostgreSQL `tsquery` text for
 * `to_tsquery('english', $1)`.
 *
 * Every word is a quoted lexeme (`'word'`, quotes and backslashes escaped), so
 * nothing the user typed is read as tsquery syntax; the text is bound as a
 * parameter, and `to_tsquery` applies English stemming to each lexeme, as the
 * stored `search_vector` was built.
 *
 * | query                      | tsquery text                           |
 * | -------------------------- | -------------------------------------- |
 * | `fastapi auth*`            | `'fastapi' & 'auth':*`                 |
 * | `"exact phrase"`           | `'exact' <-> 'phrase'`                 |
 * | `(a OR b) NOT c`           | `('a' \| 'b') & !'c'`                  |
 *
 * @see https://www.postgresql.org/docs/current/datatype-textsearch.html#DATATYPE-TSQUERY
 */
import type { QueryNode } from './query';

const lexeme = (word: string) => `'${word.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export function toTsquery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return node.prefix ? `${lexeme(node.word)}:*` : lexeme(node.word);
    case 'phrase':
      return node.words.map(lexeme).join(' <-> ');
    case 'and':
      return node.children.map(group).join(' & ');
    case 'or':
      return node.children.map(group).join(' | ');
    case 'not':
      return `${group(node.positive)} & !${group(node.negative)}`;
  }
}

function group(node: QueryNode): string {
  return node.kind === 'term' ? toTsquery(node) : `(${toTsquery(node)})`;
}
