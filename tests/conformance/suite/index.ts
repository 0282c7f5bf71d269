import { afterAll, beforeAll } from '@jest/globals';
import type { StoreHarness } from '../harness';
import { deleteManySuite } from './delete-many';
import { errorsSuite } from './errors';
import { expirySuite } from './expiry';
import { filtersSuite } from './filters';
import { limitsSuite } from './limits';
import { listSuite } from './list';
import { namespacesSuite } from './namespaces';
import { pagesSuite } from './pages';
import { paritySuite } from './parity';
import { prefixSuite } from './prefix';
import { rankingSuite } from './ranking';
import { saveSuite } from './save';
import { searchSuite } from './search';
import { timeSuite } from './time';
import { transactionsSuite } from './transactions';
import { updateSuite } from './update';

/** Registers every conformance suite for one store. */
export function describeMemoryStore(harness: StoreHarness): void {
  if (harness.setup) beforeAll(() => harness.setup!(), harness.setupTimeoutMs ?? 60_000);
  if (harness.teardown) afterAll(() => harness.teardown!());
  saveSuite(harness);
  searchSuite(harness);
  paritySuite(harness);
  rankingSuite(harness);
  listSuite(harness);
  namespacesSuite(harness);
  prefixSuite(harness);
  errorsSuite(harness);
  transactionsSuite(harness);
  filtersSuite(harness);
  timeSuite(harness);
  pagesSuite(harness);
  updateSuite(harness);
  deleteManySuite(harness);
  expirySuite(harness);
  limitsSuite(harness);
}

export type { StoreHarness } from '../harness';
