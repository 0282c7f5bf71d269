/**
 * Issue 12.4 and 12.7: documentation that travels with the package.
 *
 * - scripts/check-links.js (run on the packed tarball by `npm run docs:check`
 *   in CI) finds links out of the package, to missing files and to missing
 *   headings, and accepts the ones that resolve;
 * - `npm run bench:relevance` without LoCoMo says where it looked, how to get
 *   the data and under which terms, and exits 2.
 * That docs/api is current is `npm run docs:check` (scripts/check-docs.js), a CI step.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deadLinks } = require('../../scripts/check-links.js') as { deadLinks(root: string, files?: string[]): string[] };

const tmp = tempDir('docs');
afterAll(() => tmp.cleanup());

describe('scripts/check-links.js', () => {
  it('reports links out of the package, to missing files and to missing headings; accepts the rest', () => {
    const root = tmp.file('pkg');
    fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'README.md'),
      [
        '# AIMemo',
        'See [the contract](docs/contract.md), [its errors](docs/contract.md#errors-and-limits), [schema](docs/schema.md).',
        'Not here: [spec](../shared/SPEC.md), [anchor](docs/contract.md#no-such-heading), [self](#aimemo), [web](https://example.com/x.md).',
        '```md',
        '[inside a code block](nowhere.md)',
        '```',
        '[ref]: docs/missing.md',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(root, 'docs', 'contract.md'), '# The contract\n\n## Errors and limits\n\nBack to [the README](../README.md#aimemo).\n');
    expect(deadLinks(root).sort()).toEqual(
      [
        'README.md: ../shared/SPEC.md (outside the package)',
        'README.md: docs/contract.md#no-such-heading (no heading #no-such-heading in docs/contract.md)',
        'README.md: docs/schema.md (no such file)',
        'README.md: docs/missing.md (no such file)',
      ].sort(),
    );
  });
});

describe('npm run bench:relevance without LoCoMo', () => {
  it('says where it looked, how to get LoCoMo and its terms, and exits 2', async () => {
    const missing = tmp.file('no-locomo-here');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile('npm', ['run', '--silent', 'bench:relevance', '--', missing], { cwd: path.join(__dirname, '..', '..'), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 120_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr: String(stderr) }),
      );
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no LoCoMo data found (looked at ${missing})`);
    expect(r.stderr).toContain('git clone --depth 1 https://github.com/snap-research/locomo');
    expect(r.stderr).toContain('no license file there');
    expect(r.stderr).toContain('docs/search.md');
  }, 120_000);
});
