/**
 * The namespace path encoding itself, with no dependencies (validate.ts
 * reads it too). The public functions, with their checks, are in path.ts;
 * docs/namespaces.md describes the format.
 *
 * A path `[l1, …, ln]` is written U+001F, then each label followed by
 * U+001F; inside a label U+001F and U+001E are written as U+001E followed by
 * the character itself:
 *
 * | path | namespace |
 * | --- | --- |
 * | `['users', '123']` | `␟users␟123␟` |
 * | `['']` | `␟␟` |
 * | `['a␟b']` | `␟a␞␟b␟` |
 *
 * Why prefix reads are exact: an encoded label never holds a bare U+001F, so
 * a namespace starts with `encode(prefix)` exactly when its path starts with
 * `prefix` (`['a']` is no prefix of `['ab']`: `␟ab␟` does not start with
 * `␟a␟`). Every namespace under a prefix is then one range in byte order,
 * `[encode(prefix), encode(prefix) with its last U+001F raised to U+0020)`,
 * which both backends read from an index in byte order (SQLite's binary
 * collation, PostgreSQL's `COLLATE "C"`). No `LIKE` is involved, so `%`, `_`
 * and `\` are plain characters.
 */

/** Starts a path namespace and ends each of its labels. */
export const PATH_SEPARATOR = '\u001f';

/** Escapes a {@link PATH_SEPARATOR} or itself inside a label. */
const ESCAPE = '\u001e';

/** The character after {@link PATH_SEPARATOR} in byte order: the exclusive end of a prefix's range. */
const AFTER_SEPARATOR = '\u0020';

const SPECIAL = /[\u001e\u001f]/g;

/** `labels` as a namespace string, unchecked (the empty path is the bare separator). */
export function encodePath(labels: readonly string[]): string {
  let out = PATH_SEPARATOR;
  for (const label of labels) out += label.replace(SPECIAL, (c) => ESCAPE + c) + PATH_SEPARATOR;
  return out;
}

/** The labels of a path namespace, or `null` when `namespace` is not a well-formed one (a plain name, a bad escape, no label). */
export function decodePath(namespace: string): string[] | null {
  if (!namespace.startsWith(PATH_SEPARATOR)) return null;
  const labels: string[] = [];
  let label = '';
  for (let i = 1; i < namespace.length; i++) {
    const c = namespace[i];
    if (c === ESCAPE) {
      const next = namespace[++i];
      if (next !== ESCAPE && next !== PATH_SEPARATOR) return null;
      label += next;
    } else if (c === PATH_SEPARATOR) {
      labels.push(label);
      label = '';
    } else label += c;
  }
  // Well formed: it ended with a separator that closed a label (an escaped one leaves `label` non-empty).
  return label === '' && labels.length > 0 ? labels : null;
}

/** Every namespace under a path prefix: `start <= namespace < end` in byte order. */
export interface NamespaceRange {
  start: string;
  end: string;
}

/** The byte range of the namespaces under `prefix` (the path itself and every longer one); `[]` is every path namespace. */
export function pathRange(prefix: readonly string[]): NamespaceRange {
  const start = encodePath(prefix);
  return { start, end: start.slice(0, -1) + AFTER_SEPARATOR };
}
