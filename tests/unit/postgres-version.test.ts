/**
 * postgres.js 4 is a different library (ESM only, new pool and protocol) that
 * this release does not drive, and `postgres` is deliberately not a peer
 * dependency (next to drizzle-orm's optional peer `postgres >=3`, npm resolved
 * a `^3.4.0` peer against 4.x and refused to install SQLite-only apps). So a
 * store on a URL checks the installed version before it loads the driver.
 */
import { describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AIMemoError } from '../../src';
import { checkPostgresVersion } from '../../src/store/postgres/connect';

describe('the postgres.js version a store on a URL needs', () => {
  it.each(['3.4.0', '3.4.9', '3.5.0', '3.10.1'])('accepts %s', (version) => {
    expect(() => checkPostgresVersion(version)).not.toThrow();
  });

  it.each(['4.1.0', '4.0.0-beta.1', '3.3.5', '2.0.0', 'garbage'])('refuses %s with UNSUPPORTED, naming the fix', (version) => {
    let caught: unknown;
    try {
      checkPostgresVersion(version);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AIMemoError);
    expect((caught as AIMemoError).code).toBe('UNSUPPORTED');
    expect((caught as Error).message).toContain(`found ${version}`);
    expect((caught as Error).message).toContain('npm install postgres@3');
  });

  it('leaves an unknown version (a bundled driver) to the driver', () => {
    expect(() => checkPostgresVersion(undefined)).not.toThrow();
  });

  it('package.json: postgres is no peer dependency, and the development copy is a 3.x the check accepts', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest.peerDependencies.postgres).toBeUndefined();
    const installed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'node_modules', 'postgres', 'package.json'), 'utf8')) as { version: string };
    expect(() => checkPostgresVersion(installed.version)).not.toThrow();
  });
});
