import { beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** Nothing crosses namespaces: no read, search, delete or clear in one sees or touches another's. */
export function namespacesSuite(h: StoreHarness): void {
  describe(`${h.name}#namespaces`, () => {
    const store = useStore(h);
    const base = uniqueNamespace('iso');
    const a = `${base}-A`;
    const b = `${base}-B`;
    const upper = `${base}-CASE`;
    const lower = `${base}-case`;
    beforeAll(async () => {
      await store().saveMany([
        { id: 'shared-id', namespace: a, content: 'secret of tenant a about llamas', tags: ['t'] },
        { id: 'shared-id', namespace: b, content: 'secret of tenant b about llamas', tags: ['t'] },
        { id: 'only-a', namespace: a, content: 'alpaca facts for a' },
        { id: 'x', namespace: upper, content: 'upper case namespace' },
        { id: 'x', namespace: lower, content: 'lower case namespace' },
      ]);
    });

    it('lists every namespace, sorted', async () => {
      const all = await store().getAllNamespaces();
      for (const ns of [a, b, upper, lower]) expect(all).toContain(ns);
      expect([...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))).toEqual(all);
    });

    it('keeps reads, searches and lists inside their namespace', async () => {
      expect((await store().get('shared-id', a))?.content).toContain('tenant a');
      expect(await store().get('only-a', b)).toBeNull();
      expect((await store().search('llamas', { namespace: b, mode: 'any', limit: 50 })).map((r) => r.content)).toEqual(['secret of tenant b about llamas']);
      expect(await store().search('alpaca', { namespace: b })).toEqual([]);
      expect((await store().list({ namespace: b, tags: ['t'] })).map((m) => m.namespace)).toEqual([b]);
      expect(await store().count(a)).toBe(2);
      expect(await store().count(b)).toBe(1);
    });

    it('treats namespaces that differ only by case as different', async () => {
      expect((await store().get('x', upper))?.content).toBe('upper case namespace');
      expect((await store().get('x', lower))?.content).toBe('lower case namespace');
    });

    it('deletes and clears only inside the namespace', async () => {
      expect(await store().delete('only-a', b)).toBe(false);
      expect(await store().get('only-a', a)).not.toBeNull();
      expect(await store().delete('shared-id', b)).toBe(true);
      expect((await store().get('shared-id', a))?.content).toContain('tenant a');
      expect(await store().clear(a)).toBe(2);
      expect((await store().get('x', upper))?.content).toBe('upper case namespace');
      expect(await store().count(lower)).toBe(1);
    });
  });
}
