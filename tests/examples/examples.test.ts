/**
 * The examples in examples/ run as a fresh clone runs them (`npm run
 * example…` builds, then runs node on the file): no model, no API key, a
 * database file in a temporary folder. They need the build (`npm test`
 * builds first).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = tempDir('examples');
afterAll(() => tmp.cleanup());

function runExample(file: string, db: string): string {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'langgraph', 'index.js'))) throw new Error('dist/ is missing or stale: run npm run build (npm test does)');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'examples', file)], {
    cwd: tmp.dir,
    env: { ...process.env, AIMEMO_DB_PATH: tmp.file(db), NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ file, status: result.status, stderr: result.stderr }).toEqual({ file, status: 0, stderr: '' });
  return result.stdout;
}

describe('examples', () => {
  it('quickstart.js', () => {
    const out = runExample('quickstart.js', 'quickstart.db');
    expect(out).toMatch(/search\('fastapi'\) found 2/);
    expect(out).toMatch(/Relevant memories:/);
  });

  it('langgraph.js: a LangGraph graph compiled with AIMemoStore saves and recalls, and a rerun replaces', () => {
    for (let run = 0; run < 2; run++) {
      const out = runExample('langgraph.js', 'langgraph.db');
      expect(out).toContain('recalled for "What do you know about my cat?":\n  ');
      expect(out.split('\n')[1]).toMatch(/^ {2}\d\.\d\d {2}My cat Miso hates the vacuum cleaner$/);
      expect(out).toContain('namespaces: [["users","123","memories"]]');
    }
  });

  it('ai-tools.js: the AI SDK tools run without a model', () => {
    const out = runExample('ai-tools.js', 'ai.db');
    expect(out.match(/remember -> \{"id":"[0-9a-f-]{36}","saved":true\}/g)).toHaveLength(3);
    expect(out).toMatch(/recall\("When does the user like to go running\?"\) ->\n {2}\d\.\d\d {2}The user prefers running early in the morning, before work/);
    expect(out).toContain('a blank memory is refused by the schema: true');
  });
});
