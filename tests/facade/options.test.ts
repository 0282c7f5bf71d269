/**
 * Issue 11, item 6: `search('apple', 'victim')` searched the namespace
 * 'default'. Options that are not an object, and keys a method does not
 * know, are a ValidationError everywhere options are taken: the facade, the
 * store constructors, backup, and the operations (export, import, transfer,
 * checksum). The store methods themselves are covered on every backend by
 * the conformance suite (#limits).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AIMemo, PostgresStore, SQLiteStore, ValidationError, checksumNamespace, exportJsonl, importJsonl, transfer } from '../../src';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('options');
let store: SQLiteStore;
let memo: AIMemo;
beforeAll(async () => {
  store = new SQLiteStore(':memory:');
  await store.save({ content: 'apple in the default namespace' });
  await store.save({ content: 'apple of the victim', namespace: 'victim' });
  memo = new AIMemo({ store, namespace: 'mine' });
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

const NOT_OBJECTS: [string, unknown][] = [
  ['a string', 'victim'],
  ['null', null],
  ['a number', 7],
  ['an array', ['victim']],
  ['a function', () => ({ namespace: 'victim' })],
];

type Call = (bad: unknown) => Promise<unknown> | unknown;
const CALLS: [string, Call, string?][] = [
  ['AIMemo constructor', (bad) => new AIMemo(bad as never)],
  ['AIMemo#add', (bad) => memo.add('text', bad as never)],
  ['AIMemo#search', (bad) => memo.search('apple', bad as never)],
  ['AIMemo#list', (bad) => memo.list(bad as never)],
  ['AIMemo#getContext', (bad) => memo.getContext('apple', bad as never)],
  ['SQLiteStore constructor', (bad) => new SQLiteStore(':memory:', bad as never)],
  ['PostgresStore constructor', (bad) => new PostgresStore('postgres://u@127.0.0.1:1/db', bad as never)],
  ['SQLiteStore#backup', (bad) => store.backup(tmp.file('b.db'), bad as never)],
  ['exportJsonl', (bad) => exportJsonl(store, tmp.file('e.jsonl'), bad as never)],
  ['importJsonl', (bad) => importJsonl(store, tmp.file('missing.jsonl'), bad as never)],
  ['transfer', (bad) => transfer(store, new SQLiteStore(':memory:'), bad as never)],
  ['checksumNamespace', (bad) => checksumNamespace(store, 'victim', bad as never)],
];

async function outcome(call: Call, bad: unknown): Promise<unknown> {
  try {
    return await call(bad);
  } catch (error) {
    return error;
  }
}

describe('options must be an object', () => {
  it.each(CALLS.flatMap(([name, call]) => NOT_OBJECTS.map(([what, bad]) => [name, what, call, bad] as const)))('%s refuses options that are %s', async (_name, _what, call, bad) => {
    const error = await outcome(call, bad);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('options');
  });

  it.each(CALLS.map(([name, call]) => [name, call] as const))('%s refuses a key it does not know, naming it', async (_name, call) => {
    const error = await outcome(call, { namesapce: 'victim' });
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('options.namesapce');
  });

  it('keeps the facade in its namespace: a namespace among its options is refused, not obeyed or ignored', async () => {
    await expect(memo.search('apple', { namespace: 'victim' } as never)).rejects.toThrow(/options.namespace is not an option here/);
    await expect(memo.add('text', { namespace: 'victim' } as never)).rejects.toThrow(/options.namespace/);
    await expect(memo.list({ namespace: 'victim' } as never)).rejects.toThrow(/options.namespace/);
    expect(await store.count('victim')).toBe(1);
  });

  it('refuses a store argument that is not a store', async () => {
    await expect(transfer(store, 'postgres://elsewhere' as never)).rejects.toMatchObject({ field: 'destination' });
    await expect(exportJsonl('./aimemo.db' as never, tmp.file('x.jsonl'))).rejects.toMatchObject({ field: 'store' });
    expect(() => new AIMemo({ store: './aimemo.db' as never })).toThrow(/options.store must be a MemoryStore/);
  });

  it('still accepts no options and {}', async () => {
    expect(await memo.search('apple')).toEqual([]);
    expect(await memo.search('apple', {})).toEqual([]);
    expect(typeof (await memo.getContext('apple', {}))).toBe('string');
    expect((await checksumNamespace(store, 'victim', {})).count).toBe(1);
  });
});
