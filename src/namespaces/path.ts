/**
 * Hierarchical namespaces, the public face: a path of labels
 * (`['users', '123', 'memories']`) stored as one namespace string, and the
 * checks on paths and prefixes the store options take. The format and why
 * prefix reads are exact: codec.ts and docs/namespaces.md.
 */
import { ValidationError } from '../errors';
import { checkText, describe, LIMITS } from '../validate';
import { decodePath, encodePath } from './codec';

/** Checks a path given by the caller: an array of strings, each storable, its encoding within the namespace length limit. */
function checkedPath(labels: unknown, field: string, allowEmpty: boolean): string[] {
  if (!Array.isArray(labels)) throw new ValidationError(field, 'must be an array of strings (the labels of a namespace path)', describe(labels));
  if (!allowEmpty && labels.length === 0) throw new ValidationError(field, 'must hold at least one label');
  labels.forEach((label, i) => {
    if (typeof label !== 'string') throw new ValidationError(`${field}[${i}]`, 'must be a string', describe(label));
    checkText(label, `${field}[${i}]`);
  });
  const path = labels as string[];
  const length = encodePath(path).length;
  if (length > LIMITS.namespaceChars) {
    throw new ValidationError(field, `must encode to at most ${LIMITS.namespaceChars} characters (its labels, one separator after each and one before them)`, `${length}`);
  }
  return path;
}

/**
 * The namespace string of a path of labels. Any label is allowed (empty,
 * spaces, `/`, `.`, `:`, `%`, `_`, `\`, control characters) except one
 * holding NUL or a lone surrogate; the result is at most 255 characters.
 *
 * @throws ValidationError for an empty path, a label that is not a string or
 * holds NUL, or a path too long to be a namespace.
 * @example
 * await store.save({ content: 'Prefers dark mode', namespace: namespacePath(['users', '123', 'prefs']) });
 * await store.search('dark mode', { namespacePrefix: ['users', '123'] });
 */
export function namespacePath(labels: readonly string[]): string {
  return encodePath(checkedPath(labels, 'path', false));
}

/**
 * The labels of a path namespace ({@link namespacePath}'s inverse), or `null`
 * for a namespace that is not one (a plain name such as `'user_123'`).
 *
 * @example
 * parseNamespacePath(namespacePath(['users', '123'])); // ['users', '123']
 * parseNamespacePath('default'); // null
 */
export function parseNamespacePath(namespace: string): string[] | null {
  return typeof namespace === 'string' ? decodePath(namespace) : null;
}

/** Checks a `namespacePrefix` option: an array of labels, possibly empty (every path namespace). */
export function validateNamespacePrefix(value: unknown, field: string): string[] {
  return checkedPath(value, field, true);
}
