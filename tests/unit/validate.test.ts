import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors';
import { LIMITS, validateMetadata, validateNewMemory, validateTags } from '../../src/validate';
import { uuidv7 } from '../../src/uuid';

describe('validateNewMemory', () => {
  it('applies defaults and copies values', () => {
    const metadata = { a: { b: 1 } };
    const checked = validateNewMemory({ content: 'hi', metadata });
    expect(checked).toEqual({ content: 'hi', id: undefined, namespace: 'default', metadata: { a: { b: 1 } }, tags: [], timestamp: undefined });
    expect(checked.metadata).not.toBe(metadata);
  });

  it('names the field with the caller\'s prefix', () => {
    expect(() => validateNewMemory({ content: 'x', tags: ['ok', 5] }, 'memories[3].')).toThrow('memories[3].tags[1] must be a non-empty string; got number');
  });

  it('refuses a non-object memory', () => {
    expect(() => validateNewMemory('text')).toThrow(ValidationError);
    expect(() => validateNewMemory(null, 'memories[0].')).toThrow(/^memories\[0\] must be an object/);
  });
});

describe('validateMetadata', () => {
  it('accepts nested JSON and null-prototype objects', () => {
    const bare = Object.assign(Object.create(null), { x: 1 });
    expect(validateMetadata({ a: [1, 'two', null, true, { b: bare }] })).toEqual({ a: [1, 'two', null, true, { b: { x: 1 } }] });
  });

  it.each([
    [{ n: Infinity }, 'metadata.n'],
    [{ m: new Map() }, 'metadata.m'],
    [{ s: Symbol('x') }, 'metadata.s'],
    [{ deep: [{ x: undefined }] }, 'metadata.deep[0].x'],
  ])('refuses %p at %s', (value, field) => {
    try {
      validateMetadata(value);
      throw new Error('accepted');
    } catch (e) {
      expect((e as ValidationError).field).toBe(field);
    }
  });

  it('refuses metadata over the size limit', () => {
    expect(() => validateMetadata({ big: 'x'.repeat(LIMITS.metadataBytes) })).toThrow(/at most 65536 bytes/);
  });

  it('accepts a repeated (non-cyclic) reference', () => {
    const shared = { k: 1 };
    expect(validateMetadata({ a: shared, b: shared })).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });
});

describe('validateTags', () => {
  it('keeps order and drops duplicates', () => {
    expect(validateTags(['b', 'a', 'b'])).toEqual(['b', 'a']);
  });
  it('limits the count', () => {
    expect(() => validateTags(Array.from({ length: LIMITS.tags + 1 }, (_, i) => `t${i}`))).toThrow(/at most 100 tags/);
  });
});

describe('uuidv7', () => {
  it('makes version-7, variant-1 ids that increase within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids) expect(id).toMatch(/^018bcfe5-680[0-9a-f]-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('plain objects from another realm', () => {
  it('accepts an object made in a vm context, refuses a class instance', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vm = require('node:vm') as typeof import('node:vm');
    const foreign = vm.runInNewContext('({ a: { b: [1, 2] } })');
    expect(validateMetadata(foreign)).toEqual({ a: { b: [1, 2] } });
    class Thing {
      x = 1;
    }
    expect(() => validateMetadata({ t: new Thing() as never })).toThrow('metadata.t');
  });
});
