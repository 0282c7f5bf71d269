import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AIMemo, SQLiteStore, ValidationError } from '../../src';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('facade');
afterAll(() => tmp.cleanup());
const root = path.resolve(__dirname, '../..');

describe('AIMemo', () => {
  it('writes ./aimemo.db in the working directory by default, or AIMEMO_DB_PATH', () => {
    const script = `
      const { AIMemo } = require(${JSON.stringify(path.join(root, 'dist/src'))});
      (async () => {
        const memo = new AIMemo();
        await memo.add('User is building a FastAPI project', { tags: ['project'] });
        const hits = await memo.search('fastapi');
        console.log(JSON.stringify(hits.map((h) => h.content)));
        await memo.close();
      })();`;
    const cwd = fs.mkdtempSync(path.join(tmp.dir, 'cwd-'));
    const env = { ...process.env };
    delete env.AIMEMO_DB_PATH;
    const out = execFileSync(process.execPath, ['-e', script], { cwd, env, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['User is building a FastAPI project']);
    expect(fs.existsSync(path.join(cwd, 'aimemo.db'))).toBe(true);

    const elsewhere = tmp.file('elsewhere.db');
    execFileSync(process.execPath, ['-e', script], { cwd, env: { ...env, AIMEMO_DB_PATH: elsewhere }, encoding: 'utf8' });
    expect(fs.existsSync(elsewhere)).toBe(true);
  });

  it('keeps every call in its namespace', async () => {
    const store = new SQLiteStore(':memory:');
    const alice = new AIMemo({ store, namespace: 'alice' });
    const bob = new AIMemo({ store, namespace: 'bob' });
    const saved = await alice.add('Alice likes green tea', { tags: ['pref'], metadata: { source: 'chat' } });
    await bob.add('Bob likes green tea too');
    expect(saved).toMatchObject({ namespace: 'alice', tags: ['pref'], metadata: { source: 'chat' } });
    expect((await alice.search('tea')).map((m) => m.content)).toEqual(['Alice likes green tea']);
    expect((await alice.search('tea', { tags: ['pref'] })).length).toBe(1);
    expect(await alice.get(saved.id)).toEqual(saved);
    expect(await bob.get(saved.id)).toBeNull();
    expect((await bob.list()).map((m) => m.content)).toEqual(['Bob likes green tea too']);
    expect(await alice.clear()).toBe(1);
    expect(await store.count('bob')).toBe(1);
    await alice.close();
  });

  it('filters, updates, deletes by filter and expires in its namespace', async () => {
    const store = new SQLiteStore(':memory:');
    const memo = new AIMemo({ store, namespace: 'mine' });
    const other = new AIMemo({ store, namespace: 'theirs' });
    await memo.add('Project X kickoff notes', { metadata: { project: 'x' } });
    await memo.add('Project Y notes', { metadata: { project: 'y' } });
    await other.add('Their project X notes', { metadata: { project: 'x' } });
    const scratch = await memo.add('Scratch: call back', { ttl: 60 });
    expect(scratch.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 55_000);
    expect((await memo.list({ where: { project: 'x' } })).map((m) => m.content)).toEqual(['Project X kickoff notes']);
    const [y] = await memo.list({ where: { project: 'y' } });
    expect((await memo.update(y.id, { metadata: { done: true } }))!.metadata).toEqual({ project: 'y', done: true });
    expect(await other.update(y.id, { content: 'not mine' })).toBeNull();
    expect(await memo.deleteMany({ where: { project: 'x' } })).toBe(1);
    expect(await other.list()).toHaveLength(1);
    await memo.add('Gone already', { expiresAt: new Date(Date.now() - 1) });
    expect((await memo.list()).map((m) => m.content).sort()).toEqual(['Project Y notes', 'Scratch: call back']);
    await memo.close();
  });

  it('refuses a bad namespace when constructed', () => {
    expect(() => new AIMemo({ store: new SQLiteStore(':memory:'), namespace: '' })).toThrow(ValidationError);
  });

  describe('getContext', () => {
    const store = new SQLiteStore(':memory:');
    const memo = new AIMemo({ store, namespace: 'ctx' });
    afterAll(() => memo.close());

    it('formats the best matches for a prompt, one per line with its date', async () => {
      await memo.add('User is building a FastAPI project', { timestamp: new Date('2026-11-02T10:00:00Z') });
      await memo.add('FastAPI authentication uses OAuth2 with JWT tokens', { timestamp: new Date('2026-11-03T10:00:00Z') });
      await memo.add('The cat is called Miso', { timestamp: new Date('2026-11-04T10:00:00Z') });
      const context = await memo.getContext('How do I add authentication to my FastAPI app?');
      expect(context).toBe(
        [
          'Relevant memories:',
          '- [2026-11-03] FastAPI authentication uses OAuth2 with JWT tokens',
          '- [2026-11-02] User is building a FastAPI project',
        ].join('\n'),
      );
    });

    it("returns '' when nothing is relevant, or the question holds no searchable word", async () => {
      expect(await memo.getContext('What is the weather in Paris?')).toBe('');
      expect(await memo.getContext('?!')).toBe('');
      expect(await memo.getContext('')).toBe('');
    });

    it('respects limit and maxChars, leaving out memories that do not fit whole', async () => {
      expect((await memo.getContext('fastapi', { limit: 1 })).split('\n')).toHaveLength(2);
      const short = await memo.getContext('fastapi', { maxChars: 70 });
      expect(short.length).toBeLessThanOrEqual(70);
      expect(short).toBe('Relevant memories:\n- [2026-11-02] User is building a FastAPI project');
      expect(await memo.getContext('fastapi', { maxChars: 10 })).toBe('');
      await expect(memo.getContext('fastapi', { limit: 0 })).rejects.toThrow('options.limit');
    });
  });
});
