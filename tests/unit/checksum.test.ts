import { describe, expect, it } from '@jest/globals';
import { MemoryChecksum, canonicalMemory, type Memory } from '../../src';

const memory = (over: Partial<Memory> = {}): Memory => ({
  id: 'a',
  namespace: 'ns',
  content: 'text',
  metadata: {},
  tags: [],
  timestamp: new Date('2026-01-31T09:30:00.123Z'),
  ...over,
});

describe('canonicalMemory', () => {
  it('sorts metadata keys at every depth, keeps tag order and array order, and writes the time in ISO 8601', () => {
    const a = canonicalMemory(memory({ metadata: { b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } }, tags: ['z', 'a'] }));
    const b = canonicalMemory(memory({ metadata: { a: { c: null, d: [2, { x: 2, y: 1 }] }, b: 1 }, tags: ['z', 'a'] }));
    expect(a).toBe(b);
    expect(a).toBe('["ns","a","text",{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1},["z","a"],"2026-01-31T09:30:00.123Z"]');
    expect(canonicalMemory(memory({ tags: ['a', 'z'] }))).not.toBe(canonicalMemory(memory({ tags: ['z', 'a'] })));
  });

  it('keeps a "__proto__" key as a key', () => {
    const metadata = JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Memory['metadata'];
    expect(canonicalMemory(memory({ metadata }))).toContain('{"__proto__":{"x":1},"a":2}');
  });
});

describe('MemoryChecksum', () => {
  it('does not depend on order, and changes with any field', () => {
    const all = ['a', 'b', 'c', 'd'].map((id) => memory({ id }));
    const forward = new MemoryChecksum();
    const backward = new MemoryChecksum();
    all.forEach((m) => forward.add(m));
    [...all].reverse().forEach((m) => backward.add(m));
    expect(forward.value).toBe(backward.value);
    expect(forward.value).toMatch(/^[0-9a-f]{64}$/);
    expect(forward.count).toBe(4);
    for (const change of [{ content: 'other' }, { namespace: 'other' }, { tags: ['t'] }, { metadata: { k: 1 } }, { timestamp: new Date(0) }]) {
      const changed = new MemoryChecksum();
      all.forEach((m, i) => changed.add(i === 2 ? { ...m, ...change } : m));
      expect(changed.value).not.toBe(forward.value);
    }
  });

  it('does not cancel out two equal digests, as XOR would', () => {
    const twice = new MemoryChecksum().add(memory()).add(memory());
    expect(twice.value).not.toBe(new MemoryChecksum().value);
    expect(new MemoryChecksum().value).toBe('0'.repeat(64));
  });
});
