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

  /*
   * Namespaces are compared as exact strings: case-sensitive, no Unicode
   * normalisation, no trimming, no pattern matching. Each group below holds
   * names that look alike and must stay apart; every memory has the same id.
   */
  describe(`${h.name}#namespaces: look-alike names and reused ids`, () => {
    const store = useStore(h);
    const base = uniqueNamespace('alike');
    const GROUPS: [string, string[]][] = [
      ['case', [`${base}-User`, `${base}-user`, `${base}-USER`]],
      ['Unicode normalisation (NFC é, NFD e + U+0301)', [`${base}-caf\u00e9`, `${base}-cafe\u0301`]],
      ['compatibility forms (ﬁ ligature, fullwidth)', [`${base}-\ufb01le`, `${base}-file`, `${base}-\uff46ile`]],
      ['case folding beyond ASCII (ß, SS, ss; dotted İ, i)', [`${base}-stra\u00dfe`, `${base}-STRASSE`, `${base}-strasse`, `${base}-\u0130d`, `${base}-id`]],
      ['white space', [`${base}-ws`, `${base}-ws `, ` ${base}-ws`, `${base}-ws\u00a0`]],
      ['LIKE and GLOB wildcards', [`${base}-a%`, `${base}-a_`, `${base}-a*`, `${base}-ab`, `${base}-a\\`]],
      ['invisible characters (zero-width space, U+FEFF)', [`${base}-zw`, `${base}-z\u200bw`, `${base}-z\ufeffw`]],
    ];
    const all = GROUPS.flatMap(([, names]) => names);
    const content = (ns: string) => `look-alike marmoset number ${all.indexOf(ns)} kept in its own namespace`;

    beforeAll(async () => {
      // One batch saves the same id into every namespace: none may replace another.
      await store().saveMany(all.map((namespace) => ({ id: 'same-id', namespace, content: content(namespace), tags: ['alike'] })));
    });

    it('keeps every look-alike name as its own namespace', async () => {
      const names = await store().getAllNamespaces();
      for (const ns of all) expect(names.filter((n) => n === ns)).toEqual([ns]);
      expect(new Set(all).size).toBe(all.length);
    });

    it.each(GROUPS)('%s: get, search, list, count and getAllMemories see only their own memory', async (_what, names) => {
      for (const ns of names) {
        expect((await store().get('same-id', ns))?.content).toBe(content(ns));
        expect((await store().search('marmoset', { namespace: ns, limit: 100 })).map((m) => [m.namespace, m.content])).toEqual([[ns, content(ns)]]);
        expect((await store().search('marmoset', { namespace: ns, mode: 'any', tags: ['alike'], limit: 100 })).map((m) => m.namespace)).toEqual([ns]);
        expect((await store().list({ namespace: ns, limit: 100 })).map((m) => m.namespace)).toEqual([ns]);
        expect(await store().count(ns)).toBe(1);
        expect((await store().getAllMemories(ns)).map((m) => m.content)).toEqual([content(ns)]);
      }
    });

    it.each(GROUPS)('%s: saving, deleting and clearing one touches no other', async (_what, names) => {
      const [first, ...rest] = names;
      const statsBefore = await store().getTableStats();
      await store().save({ id: 'same-id', namespace: first, content: 'replaced marmoset in the first namespace' });
      for (const ns of rest) expect((await store().get('same-id', ns))?.content).toBe(content(ns));
      expect(await store().delete('same-id', first)).toBe(true);
      expect(await store().delete('same-id', first)).toBe(false);
      for (const ns of rest) expect(await store().count(ns)).toBe(1);
      await store().save({ id: 'other-id', namespace: first, content: 'another marmoset' });
      expect(await store().clear(first)).toBe(1);
      for (const ns of rest) expect((await store().get('same-id', ns))?.content).toBe(content(ns));
      expect((await store().getTableStats()).totalMemories).toBe(statsBefore.totalMemories - 1);
      // Put it back for the other tests.
      await store().save({ id: 'same-id', namespace: first, content: content(first), tags: ['alike'] });
    });

    const bomSkip = h.limitations?.leadingBom;
    if (bomSkip) {
      // eslint-disable-next-line no-console
      console.warn(`${h.name}: the leading U+FEFF test is skipped: ${bomSkip}`);
    }
    (bomSkip ? it.skip : it)('keeps a name, an id and a content that begin with U+FEFF exactly as given', async () => {
      const plain = `${base}-bom`;
      const bom = `\ufeff${plain}`;
      await store().save({ id: '\ufeffid', namespace: bom, content: '\ufeffmarmoset behind a byte order mark' });
      await store().save({ id: 'id', namespace: plain, content: 'marmoset without one' });
      expect(await store().getAllNamespaces()).toEqual(expect.arrayContaining([bom, plain]));
      const [hit] = await store().search('marmoset', { namespace: bom });
      expect([hit.namespace, hit.id, hit.content]).toEqual([bom, '\ufeffid', '\ufeffmarmoset behind a byte order mark']);
      expect(await store().get('id', bom)).toBeNull();
      expect((await store().get('\ufeffid', bom))?.namespace).toBe(bom);
      expect(await store().clear(plain)).toBe(1);
      expect(await store().clear(bom)).toBe(1);
    });

    it('which memories a search returns never depends on other namespaces', async () => {
      const mine = `${base}-mine`;
      const theirs = `${base}-theirs`;
      const minute = (m: number) => new Date(Date.UTC(2026, 1, 1, 8, m));
      await store().saveMany([
        { id: 'apple', namespace: mine, content: 'an apple pie recipe', timestamp: minute(0) },
        ...Array.from({ length: 6 }, (_, i) => ({ id: `filler${i}`, namespace: mine, content: `unrelated filler ${i}`, timestamp: minute(1 + i) })),
        { id: 'banana', namespace: mine, content: 'banana bread', timestamp: minute(10) },
        { id: 'cherry', namespace: mine, content: 'cherry tart', timestamp: minute(11) },
      ]);
      const query = 'apple banana cherry';
      const ids = async () => {
        const [any, all] = await Promise.all([store().search(query, { namespace: mine, mode: 'any', limit: 100 }), store().search('apple OR banana', { namespace: mine, limit: 100 })]);
        return { any: any.map((m) => m.id).sort(), all: all.map((m) => m.id).sort() };
      };
      const before = await ids();
      expect(before).toEqual({ any: ['apple', 'banana', 'cherry'], all: ['apple', 'banana'] });
      // Another tenant makes 'apple' a very common word, and writes the same ids.
      await store().saveMany(
        Array.from({ length: 1_100 }, (_, i) => ({ id: i < 9 ? ['apple', 'banana', 'cherry', ...Array.from({ length: 6 }, (_, k) => `filler${k}`)][i] : `t${i}`, namespace: theirs, content: `apple apple orchard ${i}` })),
      );
      expect(await ids()).toEqual(before);
      expect(await store().clear(theirs)).toBe(1_100);
      expect(await ids()).toEqual(before);
      await store().clear(mine);
    });
  });
}
