// The quick start from README.md, on the embedded default: ./aimemo.db (or AIMEMO_DB_PATH).
// Run it with `npm run example` (it builds first). In an app: `require('aimemo')` or `import … from 'aimemo'`.
const { AIMemo } = require('../dist/src');

async function main() {
  const memo = new AIMemo({ namespace: 'user_123' }); // ./aimemo.db, created and migrated on first use

  // Fixed ids: running the example again replaces these memories instead of adding copies.
  await memo.add('User is building a FastAPI project', { id: 'project', tags: ['project'] });
  await memo.add('User prefers PostgreSQL for production and SQLite for tests', { id: 'db-pref', tags: ['preference'] });
  await memo.add('The FastAPI app authenticates users with OAuth2 and JWT tokens', { id: 'auth', tags: ['project'] });
  await memo.add('User has a cat called Miso', { id: 'cat', metadata: { source: 'chat' } });

  const hits = await memo.search('fastapi');
  console.log(`search('fastapi') found ${hits.length}:`);
  for (const hit of hits) console.log(`  ${hit.score.toPrecision(3)}  ${hit.content}`);

  const phrase = await memo.search('"cat called" OR postgres*');
  console.log(`search('"cat called" OR postgres*') found ${phrase.length}`);

  const context = await memo.getContext('How do I add authentication to my FastAPI app?');
  console.log('\ngetContext for a prompt:\n' + context);

  await memo.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
