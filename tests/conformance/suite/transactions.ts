import { describe, expect, it } from '@jest/globals';
import { leakedSecrets } from '../../helpers/leaks';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/** saveMany is one transaction: all or nothing, even when the database itself refuses a row. */
export function transactionsSuite(h: StoreHarness): void {
  describe(`${h.name}#transactions`, () => {
    const store = useStore(h);
    const withPoison = h.poison ? it : it.skip;
    if (!h.poison) {
      // eslint-disable-next-line no-console
      console.warn(`${h.name}#transactions: the harness cannot make the database refuse a row; database-failure cases skipped`);
    }

    withPoison('leaves nothing behind when the database refuses the last row of a batch', async () => {
      // The harness's trigger raises 'poisoned row' for this content.
      const poison = await h.poison!(store());
      const ns = uniqueNamespace('tx');
      await store().save({ id: 'existing', namespace: ns, content: 'was here before' });
      const batch = [
        ...Array.from({ length: 1500 }, (_, i) => ({ id: `row${i}`, namespace: ns, content: `row ${i} of a failing batch` })),
        { id: 'existing', namespace: ns, content: 'would replace the old one' },
        { id: 'bad', namespace: ns, content: poison },
      ];
      // Matched by message, not by class: jest loads a native driver once per worker, so its
      // error class may come from another test file's realm and fail `instanceof Error`.
      await expect(store().saveMany(batch)).rejects.toMatchObject({ message: expect.stringMatching(/poisoned row/) });
      expect(await store().count(ns)).toBe(1);
      expect((await store().get('existing', ns))?.content).toBe('was here before');
      expect(await store().search('failing batch', { namespace: ns })).toEqual([]);
      // and the store keeps working
      await store().save({ id: 'after', namespace: ns, content: 'after the failure' });
      expect(await store().count(ns)).toBe(2);
    });

    withPoison('leaves nothing behind when the database refuses the last row of a batch larger than one statement (12,000 rows)', async () => {
      const poison = await h.poison!(store());
      const ns = uniqueNamespace('tx-big');
      await store().save({ id: 'existing', namespace: ns, content: 'was here before' });
      // Reversed ids: the store sorts them (one lock order for every writer); the poisoned row sorts last.
      const batch = [
        { id: 'zz-bad', namespace: ns, content: poison },
        ...Array.from({ length: 12_000 }, (_, i) => ({ id: `row${String(12_000 - i).padStart(5, '0')}`, namespace: ns, content: `secret row ${i} of a failing batch` })),
        { id: 'existing', namespace: ns, content: 'would replace the old one' },
      ];
      const error = await store().saveMany(batch).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: expect.stringMatching(/poisoned row/) });
      expect(await store().count(ns)).toBe(1);
      expect((await store().get('existing', ns))?.content).toBe('was here before');
      const many = await store().saveMany(batch.slice(1));
      expect(many).toHaveLength(12_001);
      expect(await store().count(ns)).toBe(12_001);
    }, 120_000);

    withPoison('lets no user data out with the error: no content, no bound parameters, anywhere on the cause chain', async () => {
      const poison = await h.poison!(store());
      const ns = uniqueNamespace('tx-leak');
      const secrets = ['hunter2-in-content', 'hunter2-in-metadata', 'hunter2-in-a-tag'];
      const rows = [
        { namespace: ns, content: 'hunter2-in-content', metadata: { token: 'hunter2-in-metadata' }, tags: ['hunter2-in-a-tag'] },
        { namespace: ns, content: poison },
      ];
      const error = await store().saveMany(rows).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: expect.stringMatching(/poisoned row/) });
      expect(leakedSecrets(error, [...secrets, poison.slice(0, 20)])).toEqual([]);
      const single = await store().save({ namespace: ns, content: poison }).catch((e: unknown) => e);
      expect(leakedSecrets(single, [poison.slice(0, 20)])).toEqual([]);
    });

    it('validates every item before writing any', async () => {
      const ns = uniqueNamespace('tx');
      const batch = [
        ...Array.from({ length: 10 }, (_, i) => ({ namespace: ns, content: `valid ${i}` })),
        { namespace: ns, content: '' },
      ];
      await expect(store().saveMany(batch)).rejects.toThrow(/memories\[10\]\.content/);
      expect(await store().count(ns)).toBe(0);
    });

    it('serves concurrent saves and searches without losing any', async () => {
      const ns = uniqueNamespace('tx');
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 4 === 0
            ? store().search('concurrent', { namespace: ns, mode: 'any' })
            : store().save({ id: `c${i}`, namespace: ns, content: `concurrent write ${i}` }),
        ),
      );
      expect(await store().count(ns)).toBe(30);
    });
  });
}
