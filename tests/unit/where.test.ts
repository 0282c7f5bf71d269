import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors';
import { validateInstant } from '../../src/filter/options';
import { compareCodePoints, matchesWhere, validateWhere, type WhereNode } from '../../src/filter/where';
import { indexKey, parseIndexName, validateMetadataIndex } from '../../src/store/metadata-index';
import { whereSql as pgWhereSql, indexExpression } from '../../src/store/postgres/where-sql';
import { whereSql as sqliteWhereSql } from '../../src/store/sqlite/where-sql';
import { LIMITS } from '../../src/validate';
import { PgDialect } from 'drizzle-orm/pg-core';
import { FILTER_CASES, FILTER_MEMORIES } from '../fixtures/filters';

const pg = new PgDialect();
const node = (where: unknown): WhereNode => validateWhere(where)!;

describe('matchesWhere: the parity table, in JavaScript', () => {
  it.each(FILTER_CASES)('$name', ({ where, expected }) => {
    const tree = validateWhere(where);
    expect(FILTER_MEMORIES.filter((m) => matchesWhere(tree, m.metadata)).map((m) => m.id)).toEqual(expected);
  });
});

describe('validateWhere', () => {
  it('reads a plain value as $eq and several keys as AND', () => {
    expect(validateWhere({ a: 1, 'b.c': { $gt: 2, $lt: 5 } })).toEqual({
      kind: 'and',
      children: [
        { kind: 'eq', path: ['a'], value: 1 },
        {
          kind: 'and',
          children: [
            { kind: 'range', path: ['b', 'c'], op: 'gt', value: 2 },
            { kind: 'range', path: ['b', 'c'], op: 'lt', value: 5 },
          ],
        },
      ],
    });
  });

  it('turns $ne, $nin, $exists: false and $not into negations', () => {
    expect(validateWhere({ a: { $ne: 1 } })).toEqual({ kind: 'not', child: { kind: 'eq', path: ['a'], value: 1 } });
    expect(validateWhere({ a: { $nin: [1, 1.0, 'x'] } })).toEqual({ kind: 'not', child: { kind: 'in', path: ['a'], values: [1, 'x'] } });
    expect(validateWhere({ a: { $exists: false } })).toEqual({ kind: 'not', child: { kind: 'exists', path: ['a'] } });
    expect(validateWhere({ $not: { a: 1 } })).toEqual({ kind: 'not', child: { kind: 'eq', path: ['a'], value: 1 } });
  });

  it('has no condition for undefined or {}, and skips keys set to undefined', () => {
    expect(validateWhere(undefined)).toBeUndefined();
    expect(validateWhere({})).toBeUndefined();
    expect(validateWhere({ a: undefined, b: 2 })).toEqual({ kind: 'eq', path: ['b'], value: 2 });
  });

  const deep = (levels: number): unknown => (levels === 1 ? { a: 1 } : { $or: [deep(levels - 1)] });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 'source=chat', 'where', /must be a filter object.*got a string of 11 characters$/],
    ['an array', [{ a: 1 }], 'where', /must be a filter object.*; got array$/],
    ['null', null, 'where', /got null$/],
    ['an unknown operator', { a: { $foo: 1 } }, 'where.a.$foo', /is not an operator \(\$eq \$ne/],
    ['an unknown top-level operator', { $nor: [] }, 'where.$nor', /is not a filter operator/],
    ['a nested object without operators', { user: { plan: 'pro' } }, 'where.user.plan', /for a nested key write the dotted path, like "user.plan"/],
    ['an array value', { tags: ['a', 'b'] }, 'where.tags', /use \$in/],
    ['an empty operator object', { a: {} }, 'where.a', /at least one operator/],
    ['a range over a boolean', { a: { $gt: true } }, 'where.a.$gt', /finite number or a string.*got boolean/],
    ['a range over null', { a: { $lte: null } }, 'where.a.$lte', /got null/],
    ['NaN', { a: NaN }, 'where.a', /got NaN/],
    ['Infinity in a range', { a: { $gt: Infinity } }, 'where.a.$gt', /got Infinity/],
    ['an object in $eq', { a: { $eq: { b: 1 } } }, 'where.a.$eq', /got object/],
    ['$in not an array', { a: { $in: 'x' } }, 'where.a.$in', /must be an array/],
    ['an object inside $in', { a: { $in: ['x', { y: 1 }] } }, 'where.a.$in[1]', /got object/],
    ['$exists not a boolean', { a: { $exists: 1 } }, 'where.a.$exists', /must be true or false/],
    ['an array in $contains', { a: { $contains: ['x'] } }, 'where.a.$contains', /got array/],
    ['$not with a value', { a: { $not: 5 } }, 'where.a.$not', /operator object.*use \$ne/],
    ['an empty $or', { $or: [] }, 'where.$or', /non-empty array/],
    ['$and not an array', { $and: { a: 1 } }, 'where.$and', /non-empty array/],
    ['a bad element of $or', { $or: [{ a: 1 }, 'b'] }, 'where.$or[1]', /must be a filter object/],
    ['an empty path', { '': 1 }, 'where.', /empty path/],
    ['an empty key', { 'a..b': 1 }, 'where.a..b', /single dots/],
    ['a trailing dot', { 'a.': 1 }, 'where.a.', /single dots/],
    ['a double quote in a key', { 'a"b': 1 }, 'where.a"b', /double quotes, backslashes/],
    ['a backslash in a key', { 'a\\b': 1 }, 'where.a\\b', /double quotes, backslashes/],
    ['a NUL in a value', { a: 'x\u0000' }, 'where.a', /NUL/],
    ['a lone surrogate in a value', { a: { $gt: '\ud800' } }, 'where.a.$gt', /lone surrogates/],
    ['too deep', deep(LIMITS.whereDepth + 1), `where${'.$or[0]'.repeat(LIMITS.whereDepth)}`, /deeper than 8 levels/],
    ['too many conditions', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])), 'where.k100', /more than 100 conditions/],
    ['too many $in values', { a: { $in: Array.from({ length: 1001 }, (_, i) => i) } }, 'where.a.$in', /at most 1000 values; got 1001/],
    ['too many path keys', { [Array.from({ length: 17 }, () => 'k').join('.')]: 1 }, `where.${Array.from({ length: 17 }, () => 'k').join('.')}`, /at most 16 keys/],
    ['a path too long', { ['k'.repeat(256)]: 1 }, `where.${'k'.repeat(255)}`, /at most 255 characters; got 256/],
    ['too large', { a: { $in: Array.from({ length: 900 }, () => 'x'.repeat(80)) } }, 'where', /at most 65536 bytes/],
  ])('refuses %s, naming the path', (_label, where, field, message) => {
    let error: unknown;
    try {
      validateWhere(where);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts exactly the limits', () => {
    expect(() => validateWhere(deep(LIMITS.whereDepth))).not.toThrow();
    expect(() => validateWhere(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])))).not.toThrow();
    expect(() => validateWhere({ a: { $in: Array.from({ length: 1000 }, (_, i) => i) } })).not.toThrow();
  });

  it('never puts a value in a message', () => {
    try {
      validateWhere({ secret: { $gt: { password: 'hunter2' } } });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('compareCodePoints', () => {
  it('orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('😀', '\ufb00')).toBeGreaterThan(0);
    expect('😀' < '\ufb00').toBe(true);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('é', 'z')).toBeGreaterThan(0);
  });
});

describe('validateInstant', () => {
  it('takes a Date, an ISO date and time with a zone, or a date alone (midnight UTC)', () => {
    expect(validateInstant(new Date(5), 'since')!.getTime()).toBe(5);
    expect(validateInstant('2026-01-31T09:30:00+02:00', 'since')!.toISOString()).toBe('2026-01-31T07:30:00.000Z');
    expect(validateInstant('2026-01-31', 'since')!.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(validateInstant(undefined, 'since')).toBeUndefined();
  });

  it.each([['2026-01-31T09:30:00'], ['2026-02-30'], ['yesterday'], [1706693400000], [new Date(NaN)]])('refuses %p', (value) => {
    expect(() => validateInstant(value, 'options.since')).toThrow(/^options\.since must be/);
  });
});

describe('the SQL of a filter', () => {
  const none = new Set<string>();

  it('SQLite: typed tests, paths and values as parameters, the text only from the shape', () => {
    const a = sqliteWhereSql(node({ source: 'chat', priority: { $gte: 2 } }), none);
    const b = sqliteWhereSql(node({ other: 'x', 'deep.er': { $gte: 9.5 } }), none);
    expect(a.text).toBe(
      `((CASE WHEN json_type(m.metadata, ?) = 'text' THEN json_extract(m.metadata, ?) END = ?) AND (CASE WHEN json_type(m.metadata, ?) IN ('integer', 'real') THEN json_extract(m.metadata, ?) END >= ?))`,
    );
    expect(a.params).toEqual(['$."source"', '$."source"', 'chat', '$."priority"', '$."priority"', 2]);
    expect(b.text).toBe(a.text);
    expect(b.params).toEqual(['$."other"', '$."other"', 'x', '$."deep"."er"', '$."deep"."er"', 9.5]);
    expect(sqliteWhereSql(node({ ok: true }), none).text).toBe(`(json_type(m.metadata, ?) = 'true')`);
    expect(sqliteWhereSql(node({ $not: { a: 1 } }), none).text).toMatch(/^\(\(.*\) IS NOT TRUE\)$/);
  });

  it('SQLite: an indexed path is written into the text, as the index expression', () => {
    const indexed = new Set([indexKey('number', ['priority'])]);
    const { text, params } = sqliteWhereSql(node({ priority: { $gte: 2 } }), indexed);
    expect(text).toBe(`(CASE WHEN json_type(m.metadata, '$."priority"') IN ('integer', 'real') THEN json_extract(m.metadata, '$."priority"') END >= ?)`);
    expect(params).toEqual([2]);
    // a string range on the same path is not served by a number index
    expect(sqliteWhereSql(node({ priority: { $gte: 'a' } }), indexed).params).toEqual(['$."priority"', '$."priority"', 'a']);
  });

  it('PostgreSQL: equality is jsonb containment (the GIN index), ranges typed, keys as text parameters', () => {
    const eq = pg.sqlToQuery(pgWhereSql(node({ 'user.plan': 'pro' }), none));
    expect(eq.sql).toBe('(m.metadata @> $1::text::jsonb)');
    expect(eq.params).toEqual(['{"user":{"plan":"pro"}}']);
    const range = pg.sqlToQuery(pgWhereSql(node({ priority: { $gte: 2 } }), none));
    expect(range.sql).toBe(`(CASE WHEN jsonb_typeof(m.metadata -> $1::text) = 'number' THEN (m.metadata -> $2::text)::numeric END >= $3::numeric)`);
    expect(range.params).toEqual(['priority', 'priority', '2']);
    const text = pg.sqlToQuery(pgWhereSql(node({ 'a.b': { $lt: 'm' } }), none));
    expect(text.sql).toBe(
      `((CASE WHEN jsonb_typeof(m.metadata -> $1::text -> $2::text) = 'string' THEN m.metadata -> $3::text ->> $4::text END) COLLATE "C" < $5::text)`,
    );
  });

  it('PostgreSQL: an indexed range is exactly the index expression', () => {
    expect(indexExpression('number', ['priority'])).toBe(`(CASE WHEN jsonb_typeof(metadata -> 'priority') = 'number' THEN (metadata -> 'priority')::numeric END)`);
    const q = pg.sqlToQuery(pgWhereSql(node({ priority: { $gte: 2 } }), new Set([indexKey('number', ['priority'])])));
    expect(q.sql).toBe(`(CASE WHEN jsonb_typeof(m.metadata -> 'priority') = 'number' THEN (m.metadata -> 'priority')::numeric END >= $1::numeric)`);
    expect(indexExpression('string', ['a', 'due'])).toBe(`((CASE WHEN jsonb_typeof(metadata -> 'a' -> 'due') = 'string' THEN metadata -> 'a' ->> 'due' END) COLLATE "C")`);
  });
});

describe('metadata index declarations', () => {
  it('names an index after its type and path, and reads the name back', () => {
    const checked = validateMetadataIndex({ path: 'user.joined_at', type: 'string' });
    expect(checked).toEqual({ type: 'string', path: ['user', 'joined_at'], name: 'memories_meta_string_user.joined_at' });
    expect(parseIndexName(checked.name)).toEqual({ name: checked.name, type: 'string', path: 'user.joined_at' });
    expect(parseIndexName('memories_ns_ts_idx')).toBeUndefined();
  });

  it.each<[unknown, string]>([
    [{ path: 'priority' }, 'index.type'],
    [{ path: 'priority', type: 'date' }, 'index.type'],
    [{ type: 'number' }, 'index.path'],
    [{ path: "a'b", type: 'number' }, 'index.path'],
    [{ path: 'a b', type: 'number' }, 'index.path'],
    [{ path: 'k'.repeat(41), type: 'number' }, 'index.path'],
    [{ path: 'a..b', type: 'number' }, 'index.path'],
    ['priority', 'index'],
  ])('refuses %p', (value, field) => {
    try {
      validateMetadataIndex(value);
      throw new Error('accepted');
    } catch (e) {
      expect((e as ValidationError).field).toBe(field);
    }
  });
});
