// LangGraph.js with AIMemo as its store: a graph whose nodes save and search long-term memories through
// `config.store`, on SQLite (./aimemo-langgraph.db, or AIMEMO_DB_PATH). No model and no API key: the nodes
// are plain functions, as an agent's tools would be. Run it with `npm run example:langgraph` (it builds first).
// In an app: `import { AIMemoStore } from 'aimemo/langgraph'` and pass it to `graph.compile({ store })`.
const { Annotation, StateGraph, START, END } = require('@langchain/langgraph');
const { SQLiteStore } = require('../dist/src');
const { AIMemoStore } = require('../dist/src/langgraph');

const State = Annotation.Root({
  userId: Annotation(),
  message: Annotation(),
  recalled: Annotation(),
});

// Saves what the user said (not questions) as a memory under ['users', <id>, 'memories'].
async function remember(state, config) {
  if (state.message.trim().endsWith('?')) return {};
  const key = `m${Buffer.from(state.message).toString('base64url').slice(0, 16)}`; // stable: reruns replace, not add
  await config.store.put(['users', state.userId, 'memories'], key, { text: state.message, source: 'chat' });
  return {};
}

// Finds what is already known that bears on the message, across everything stored for the user.
async function recall(state, config) {
  const hits = await config.store.search(['users', state.userId], { query: state.message, limit: 3 });
  return { recalled: hits.map((h) => `${h.score.toFixed(2)}  ${h.value.text}`) };
}

async function main() {
  const store = new AIMemoStore(new SQLiteStore(process.env.AIMEMO_DB_PATH || './aimemo-langgraph.db'));
  const graph = new StateGraph(State).addNode('remember', remember).addNode('recall', recall)
    .addEdge(START, 'recall').addEdge('recall', 'remember').addEdge('remember', END)
    .compile({ store }); // <- the one line: LangGraph's InMemoryStore or PostgresStore before

  for (const message of ['I live in Lisbon and work as a nurse', 'My cat Miso hates the vacuum cleaner', 'I am allergic to peanuts']) {
    await graph.invoke({ userId: '123', message });
  }
  const question = 'What do you know about my cat?';
  const { recalled } = await graph.invoke({ userId: '123', message: question });
  console.log(`recalled for "${question}":`);
  for (const line of recalled) console.log(`  ${line}`);

  console.log('namespaces:', JSON.stringify(await store.listNamespaces({ prefix: ['users'] })));
  await store.memoryStore.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
