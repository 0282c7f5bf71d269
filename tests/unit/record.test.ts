import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src';
import { validateIsoTimestamp, validateMemoryRecord } from '../../src/validate';

describe('validateIsoTimestamp', () => {
  it.each([
    ['2026-01-31T09:30:00.000Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T09:30Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T11:30:00+02:00', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T04:30:00-0500', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T09:30:00.123456789Z', '2026-01-31T09:30:00.123Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(validateIsoTimestamp(text).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-01-31T09:30:00', 'no time zone'],
    ['2026-01-31', 'a date only'],
    ['31/01/2026 09:30', 'another format'],
    ['2026-02-29T00:00:00Z', 'not a leap year'],
    ['2026-13-01T00:00:00Z', 'month 13'],
    ['2026-01-31T24:00:00Z', 'hour 24'],
    ['0000-01-01T00:00:00Z', 'year 0'],
  ])('refuses %s (%s)', (text) => {
    expect(() => validateIsoTimestamp(text)).toThrow(ValidationError);
  });

  it('refuses what is not a string', () => {
    expect(() => validateIsoTimestamp(1706693400000)).toThrow('timestamp must be an ISO 8601 date and time with a time zone, like 2026-01-31T09:30:00.000Z; got number');
  });
});

describe('validateMemoryRecord', () => {
  it('checks a line with the rules of save, the timestamp as text', () => {
    expect(validateMemoryRecord({ content: 'x', timestamp: '2026-01-31T09:30:00Z', tags: ['a', 'a'] })).toEqual({
      content: 'x',
      id: undefined,
      namespace: 'default',
      metadata: {},
      tags: ['a'],
      timestamp: new Date('2026-01-31T09:30:00Z'),
    });
  });

  it.each([
    [{ content: 'x', extra: 1 }, /^memory must have only the fields id, namespace, content, metadata, tags, timestamp, expiresAt; got 1 other field$/],
    [{ content: '' }, /^content must be a non-empty string/],
    [{ content: 'x', timestamp: 5 }, /^timestamp must be an ISO 8601/],
    [{ content: 'x', id: '' }, /^id must be a string of 1-255/],
    ['text', /^memory must be a JSON object with a content string; got a string/],
    [null, /^memory must be a JSON object/],
  ])('refuses %j', (value, message) => {
    expect(() => validateMemoryRecord(value)).toThrow(message);
  });
});
