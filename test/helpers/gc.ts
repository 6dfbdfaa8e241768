/**
 * Tests that watch the garbage collector need `gc()`, which Node exposes only
 * under `--expose-gc` (scripts/run-tests.mjs passes it). One rule for all of
 * them, as for the services: without it they skip with a message saying so,
 * and under NEXUS_REQUIRE_SERVICES=1 they fail instead.
 *
 *   import { collectGarbage, needsGc } from '../helpers/gc.js';
 *   test('... becomes collectable', needsGc, async () => { collectGarbage(); ... });
 */
import { servicesRequired } from './services.js';

const exposed = (globalThis as { gc?: () => void }).gc;

const MISSING = 'gc() is not exposed: run node with --expose-gc (scripts/run-tests.mjs does)';

/** Test options: `{ skip: false }` when the test can run (or must, under NEXUS_REQUIRE_SERVICES=1). */
export const needsGc: { readonly skip: false | string } = {
  skip: exposed !== undefined || servicesRequired ? false : `${MISSING}; set NEXUS_REQUIRE_SERVICES=1 to make this a failure`,
};
if (needsGc.skip !== false) console.warn(`skipping the tests that need gc(): ${needsGc.skip}`);

/** One full collection; throws (failing the test) where gc() is not exposed. */
export function collectGarbage(): void {
  if (exposed === undefined) throw new Error(`${MISSING}${servicesRequired ? ', and NEXUS_REQUIRE_SERVICES=1 makes the tests that need it fail' : ''}`);
  exposed();
}
