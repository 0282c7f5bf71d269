/**
 * aimemo/ai: memoryTools(memo) on SQLite, PGlite and the server — the tools'
 * execute functions, their zod schemas, and a whole generateText run in
 * which a scripted model (the AI SDK's own MockLanguageModelV3, no key)
 * calls remember, then recall, and reads the results back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import type { z } from 'zod';
import { AIMemo, PostgresStore, SQLiteStore, ValidationError, type MemoryStore } from '../../src';
import { memoryTools } from '../../src/ai';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueNamespace } from '../helpers/temp';

const CALL = { toolCallId: 't', messages: [] };
const schema = (t: { inputSchema: unknown }) => t.inputSchema as z.ZodType;

interface Backend {
  name: string;
  open(): Promise<MemoryStore>;
  close?(): Promise<void>;
}

let pglite: PGlite | undefined;
let db: TestDatabase | undefined;
const BACKENDS: Backend[] = [
  { name: 'SQLite', open: async () => new SQLiteStore(':memory:') },
  {
    name: 'PGlite',
    open: async () => new PostgresStore((pglite ??= await createPGlite())),
    close: async () => pglite?.close(),
  },
  ...(PG_URL
    ? [
        {
          name: 'server',
          open: async () => new PostgresStore((db ??= await createTestDatabase('ai_tools')).url, { poolSize: 2 }),
          close: async () => db?.drop(),
        },
      ]
    : []),
];
if (!PG_URL) console.warn('aimemo/ai on the PostgreSQL server: skipped, AIMEMO_TEST_PG_URL is not set (PGlite covers PostgreSQL)');

describe.each(BACKENDS)('memoryTools on $name', (backend) => {
  let store: MemoryStore;
  beforeAll(async () => {
    store = await backend.open();
  }, 60_000);
  afterAll(async () => {
    await store.close();
    await backend.close?.();
  });

  it('remember saves into the facade’s namespace; recall finds it, best first, with scores and dates', async () => {
    const namespace = uniqueNamespace('tools');
    const tools = memoryTools(new AIMemo({ store, namespace }));
    const saved = await tools.remember.execute!({ content: 'The user is allergic to peanuts', tags: ['health'] }, CALL);
    await tools.remember.execute!({ content: 'The user likes peanut-free chocolate and hiking' }, CALL);
    await tools.remember.execute!({ content: 'The user works night shifts at the hospital' }, CALL);
    expect(saved).toEqual({ id: expect.any(String), saved: true });
    expect((await store.get((saved as { id: string }).id, namespace))?.tags).toEqual(['health']);

    const found = (await tools.recall.execute!({ query: 'What is the user allergic to?' }, CALL)) as { memories: { content: string; score: number; savedAt: string }[] };
    expect(found.memories[0].content).toBe('The user is allergic to peanuts');
    expect(found.memories[0].score).toBeGreaterThan(0);
    expect(found.memories[0].score).toBeLessThanOrEqual(1);
    expect(Number.isNaN(Date.parse(found.memories[0].savedAt))).toBe(false);
    expect(((await tools.recall.execute!({ query: 'peanuts hiking hospital', limit: 1 }, CALL)) as { memories: unknown[] }).memories).toHaveLength(1);
    // Another namespace's tools see none of it.
    const other = memoryTools(new AIMemo({ store, namespace: `${namespace}-other` }));
    expect(await other.recall.execute!({ query: 'peanuts' }, CALL)).toEqual({ memories: [] });
  });

  it('checks the model’s input with zod before anything runs', () => {
    const tools = memoryTools(new AIMemo({ store, namespace: 'x' }), { maxRecall: 3 });
    expect(schema(tools.remember).safeParse({ content: '   ' }).success).toBe(false);
    expect(schema(tools.remember).safeParse({ content: 'x'.repeat(100_001) }).success).toBe(false);
    expect(schema(tools.remember).safeParse({ content: 'ok', tags: [''] }).success).toBe(false);
    expect(schema(tools.remember).safeParse({ content: 'ok', tags: ['a'] }).success).toBe(true);
    expect(schema(tools.recall).safeParse({ query: 'x', limit: 4 }).success).toBe(false);
    expect(schema(tools.recall).safeParse({ query: 'x', limit: 1.5 }).success).toBe(false);
    expect(schema(tools.recall).safeParse({ query: 'x', limit: 3 }).success).toBe(true);
    expect(schema(tools.recall).safeParse({}).success).toBe(false);
  });

  it('runs inside generateText: a scripted model calls remember, then recall, and gets the results back', async () => {
    const namespace = uniqueNamespace('agent');
    const memo = new AIMemo({ store, namespace });
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
    const toolCall = (toolCallId: string, toolName: string, input: object) => ({
      content: [{ type: 'tool-call' as const, toolCallId, toolName, input: JSON.stringify(input) }],
      finishReason: { unified: 'tool-calls' as const, raw: undefined },
      usage,
      warnings: [],
    });
    const steps = [
      toolCall('c1', 'remember', { content: 'The user’s favourite colour is teal', tags: ['preference'] }),
      toolCall('c2', 'recall', { query: 'favourite colour', limit: 2 }),
      { content: [{ type: 'text' as const, text: 'Your favourite colour is teal.' }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] },
    ];
    let call = 0;
    const model = new MockLanguageModelV3({ doGenerate: async () => steps[call++] });
    const result = await generateText({ model, tools: memoryTools(memo), stopWhen: stepCountIs(5), prompt: 'Remember my favourite colour is teal, then tell me what it is.' });
    expect(result.text).toBe('Your favourite colour is teal.');
    const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => [r.toolName, r.output]));
    expect(outputs[0]).toEqual(['remember', { id: expect.any(String), saved: true }]);
    expect(outputs[1][0]).toBe('recall');
    expect((outputs[1][1] as { memories: { content: string }[] }).memories.map((m) => m.content)).toEqual(['The user’s favourite colour is teal']);
    expect(await store.count(namespace)).toBe(1);
  });
});

describe('memoryTools arguments', () => {
  it('refuses what is not an AIMemo, and a maxRecall outside 1-50', () => {
    expect(() => memoryTools({} as never)).toThrow(ValidationError);
    const memo = new AIMemo({ store: new SQLiteStore(':memory:') });
    expect(() => memoryTools(memo, { maxRecall: 0 })).toThrow('options.maxRecall must be a positive integer of at most 50');
    expect(() => memoryTools(memo, { maxRecall: 51 })).toThrow(ValidationError);
    return memo.close();
  });
});
