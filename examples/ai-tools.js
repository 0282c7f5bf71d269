// Memory tools for the Vercel AI SDK: `remember` and `recall`, ready for generateText/streamText.
// Runs without a model or an API key: it calls the tools' `execute` as the AI SDK does when the model asks
// for them, on SQLite (./aimemo-ai.db, or AIMEMO_DB_PATH). Run it with `npm run example:ai` (it builds first).
// With a model: generateText({ model, tools: memoryTools(memo), stopWhen: stepCountIs(5), prompt }).
const { AIMemo, SQLiteStore } = require('../dist/src');
const { memoryTools } = require('../dist/src/ai');

async function main() {
  const memo = new AIMemo({ store: new SQLiteStore(process.env.AIMEMO_DB_PATH || './aimemo-ai.db'), namespace: 'user_123' });
  const tools = memoryTools(memo);
  const call = { toolCallId: 'example', messages: [] }; // what the AI SDK passes to execute

  // What a model sends: input checked by the tool's zod schema first, as the AI SDK does.
  for (const input of [
    { content: 'The user is training for the Lisbon half marathon in October', tags: ['goal'] },
    { content: 'The user prefers running early in the morning, before work' },
    { content: 'The user has a cat called Miso' },
  ]) {
    const saved = await tools.remember.execute(tools.remember.inputSchema.parse(input), call);
    console.log(`remember -> ${JSON.stringify(saved)}`);
  }

  const found = await tools.recall.execute(tools.recall.inputSchema.parse({ query: 'When does the user like to go running?', limit: 2 }), call);
  console.log('recall("When does the user like to go running?") ->');
  for (const m of found.memories) console.log(`  ${m.score.toFixed(2)}  ${m.content}`);

  const bad = tools.remember.inputSchema.safeParse({ content: '   ' });
  console.log(`a blank memory is refused by the schema: ${!bad.success}`);
  await memo.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
