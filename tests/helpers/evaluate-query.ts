/**
 * What a parsed query should find, computed in JavaScript: a reference for
 * the backends on texts whose words neither dialect stems or drops (`apple`,
 * `w31`, `z5`). Words are matched whole (or as prefixes), phrases as
 * consecutive words.
 */
import { words, type QueryNode } from '../../src/search/query';

export function matches(node: QueryNode, text: string): boolean {
  const ws = words(text);
  const has = (w: string, prefix: boolean) => ws.some((x) => (prefix ? x.startsWith(w) : x === w));
  const visit = (n: QueryNode): boolean => {
    switch (n.kind) {
      case 'term':
        return has(n.word, n.prefix);
      case 'phrase':
        return ws.some((_, i) => n.words.every((w, j) => ws[i + j] === w));
      case 'and':
        return n.children.every(visit);
      case 'or':
        return n.children.some(visit);
      case 'not':
        return visit(n.positive) && !visit(n.negative);
    }
  };
  return visit(node);
}
