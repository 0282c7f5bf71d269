import { afterAll, beforeAll } from '@jest/globals';
import type { StoreHarness } from '../harness';
import { errorsSuite } from './errors';
import { limitsSuite } from './limits';
import { listSuite } from './list';
import { namespacesSuite } from './namespaces';
import { paritySuite } from './parity';
import { saveSuite } from './save';
import { searchSuite } from './search';
import { transactionsSuite } from './transactions';

/** Registers every conformance suite for one store. */
export function describeMemoryStore(harness: StoreHarness): void {
  if (harness.setup) beforeAll(() => harness.setup!(), harness.setupTimeoutMs ?? 60_000);
  if (harness.teardown) afterAll(() => harness.teardown!());
  saveSuite(harness);
  searchSuite(harness);
  paritySuite(harness);
  listSuite(harness);
  namespacesSuite(harness);
  errorsSuite(harness);
  transactionsSuite(harness);
  limitsSuite(harness);
}

export type { StoreHarness } from '../harness';
