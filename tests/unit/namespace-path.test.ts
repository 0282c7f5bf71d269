/**
 * The namespace path encoding (src/namespaces): reversible for every label,
 * and prefix matching by byte range exactly when one path starts with the
 * other, checked on generated paths.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { namespacePath, parseNamespacePath, ValidationError } from '../../src';
import { decodePath, encodePath, pathRange } from '../../src/namespaces/codec';
import { validateNamespacePrefix } from '../../src/namespaces/path';
import { validateNamespace } from '../../src/validate';
import { compareBytes } from '../../src/store/order';

/** Characters that separators, escapes, LIKE, GLOB, JSON paths or LangGraph's own joins treat specially, and some that are not ASCII. */
const TRICKY = ['\u001f', '\u001e', '\u0020', '', '%', '_', '\\', '/', ':', '.', '*', '"', "'", 'a', 'b', 'A', 'é', 'e\u0301', '😀', '\u200b', '\ufeff', '\t', '\n'];

/** A label: a few tricky pieces, or any string without NUL or lone surrogates. */
const label = fc.oneof(
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 4 }).map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', maxLength: 6 }).filter((s) => !s.includes('\u0000')),
);
const path = fc.array(label, { maxLength: 5 });

const isPrefix = (prefix: string[], of: string[]) => prefix.length <= of.length && prefix.every((l, i) => of[i] === l);
const inRange = (ns: string, prefix: string[]) => {
  const { start, end } = pathRange(prefix);
  return compareBytes(ns, start) >= 0 && compareBytes(ns, end) < 0;
};

describe('namespace paths', () => {
  it('round-trips every path of labels (empty labels, separators, escapes, wildcards, Unicode)', () => {
    fc.assert(
      fc.property(path.filter((p) => p.length > 0), (p) => {
        const ns = encodePath(p);
        expect(decodePath(ns)).toEqual(p);
        if (ns.length <= 255) expect(parseNamespacePath(namespacePath(p))).toEqual(p);
      }),
      { numRuns: 5000 },
    );
  });

  it('puts a namespace in a prefix range exactly when its path starts with the prefix', () => {
    fc.assert(
      fc.property(path.filter((p) => p.length > 0), path, (p, prefix) => {
        const ns = encodePath(p);
        expect(inRange(ns, prefix)).toBe(isPrefix(prefix, p));
        expect(ns.startsWith(encodePath(prefix))).toBe(isPrefix(prefix, p));
      }),
      { numRuns: 5000 },
    );
  });

  it('puts a prefix and its extensions in the range, and near misses out of it', () => {
    fc.assert(
      fc.property(path, label, label, (prefix, extra, other) => {
        fc.pre(other !== '');
        expect(inRange(encodePath([...prefix, extra]), prefix)).toBe(true);
        // The last label made longer, or one label changed: never under the prefix.
        if (prefix.length > 0) {
          const longer = [...prefix.slice(0, -1), prefix[prefix.length - 1] + other];
          expect(inRange(encodePath(longer), prefix)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    [['a'], ['ab'], false],
    [['a_b'], ['aXb'], false],
    [['a%'], ['abc'], false],
    [['a\\'], ['a\\b'], false],
    [['a'], ['a', 'b'], true],
    [['a'], ['a'], true],
    [[], ['x'], true],
    [['a', ''], ['a'], false],
    [['a'], ['a', ''], true],
    [['a\u001f'], ['a', ''], false],
    [['a'], ['a\u001fb'], false],
  ])('prefix %j of %j: %s', (prefix, of, expected) => {
    expect(inRange(encodePath(of), prefix)).toBe(expected);
  });

  it('leaves plain namespaces out of every prefix, [] included', () => {
    for (const plain of ['default', 'user_123', 'users/123', 'a\u001fb', ' \u001f', '\u001e']) {
      expect(inRange(plain, [])).toBe(false);
      expect(parseNamespacePath(plain)).toBeNull();
    }
  });

  it('refuses malformed path namespaces where a namespace is checked', () => {
    for (const bad of ['\u001f', '\u001fa', '\u001fa\u001e', '\u001fa\u001e\u001f', '\u001fa\u001ex\u001f', '\u001fa\u001fb']) {
      expect(decodePath(bad)).toBeNull();
      expect(() => validateNamespace(bad)).toThrow(ValidationError);
    }
    expect(validateNamespace('\u001fa\u001e\u001f\u001f')).toBe('\u001fa\u001e\u001f\u001f');
  });

  it('checks paths and prefixes: arrays of storable strings, within the namespace length', () => {
    expect(() => namespacePath([])).toThrow('path must hold at least one label');
    expect(() => namespacePath('a' as never)).toThrow(ValidationError);
    expect(() => namespacePath(['a', 3 as never])).toThrow('path[1] must be a string; got number');
    expect(() => namespacePath(['a\u0000'])).toThrow('path[0] must not contain NUL');
    expect(() => namespacePath(['\ud800'])).toThrow('well-formed Unicode');
    expect(() => namespacePath(['x'.repeat(254)])).toThrow('at most 255 characters');
    expect(() => namespacePath(['x'.repeat(252) + '\u001f'])).toThrow('at most 255 characters'); // the escape counts
    expect(namespacePath(['x'.repeat(253)])).toHaveLength(255);
    expect(validateNamespacePrefix([], 'options.namespacePrefix')).toEqual([]);
    expect(() => validateNamespacePrefix(null, 'options.namespacePrefix')).toThrow('options.namespacePrefix must be an array of strings');
  });
});
