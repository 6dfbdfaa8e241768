// Sizes the running byte count cannot carry exactly (issue 19, item 8): a
// size above Number.MAX_SAFE_INTEGER, or one that would bring currentUsage
// past it, would make the float sum round and currentUsage drift for good.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FALLBACK_ENTRY_BYTES } from '../../src/cache/memory-manager.js';
import { cacheOf, STRATEGIES } from './helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;

for (const strategy of STRATEGIES) {
  describe(`MemoryManager refuses sizes the byte count cannot sum exactly (${strategy})`, () => {
    it('set(huge 1e300, pinned) is a RangeError naming size and the value; after small and deletes, currentUsage is 0, not -100', () => {
      const cache = cacheOf<string, object>(strategy);
      assert.throws(() => cache.set('huge', {}, { size: 1e300, pin: true }), (e: unknown) => e instanceof RangeError && /^size must be .* got 1e\+300$/.test(e.message));
      assert.equal(cache.has('huge'), false);
      assert.equal(cache.isPinned('huge'), false, 'a refused set has no side effect, not even its pin');
      assert.equal(cache.set('small', {}, { size: 100, pin: true }), true);
      cache.delete('huge');
      cache.delete('small');
      assert.equal(cache.metrics.currentUsage, 0);
      assert.equal(cache.metrics.pinnedBytes, 0);
    });

    it('takes a size of exactly Number.MAX_SAFE_INTEGER, then refuses one more byte, naming size, the key and the sum', () => {
      const cache = cacheOf<string, object>(strategy);
      assert.equal(cache.set('big', {}, { size: MAX, pin: true }), true);
      assert.equal(cache.metrics.currentUsage, MAX);
      assert.throws(
        () => cache.set('one', {}, { size: 1 }),
        (e: unknown) => e instanceof RangeError && e.message === `size: 1 bytes for key "one" would bring currentUsage (${MAX} bytes) past Number.MAX_SAFE_INTEGER, where the byte count stops being exact`,
      );
      assert.equal(cache.has('one'), false);
      // Replacing accounts the new size only: the same total is fine.
      assert.equal(cache.set('big', {}, { size: MAX }), true);
      assert.equal(cache.set('big', {}, { size: MAX - 10 }), true);
      assert.equal(cache.set('ten', {}, { size: 10 }), true);
      assert.equal(cache.metrics.currentUsage, MAX);
      cache.delete('big');
      cache.delete('ten');
      assert.equal(cache.metrics.currentUsage, 0);
      assert.throws(() => cache.set('x', {}, { size: 2 ** 53 }), (e: unknown) => e instanceof RangeError && /size must be .* got 9007199254740992$/.test(e.message));
    });

    it('an estimator returning more than Number.MAX_SAFE_INTEGER gives the fallback size and an error on errors, never a throw', () => {
      for (const estimate of [1e300, 2 ** 53]) {
        const cache = cacheOf<string, string>(strategy, { sizeEstimator: () => estimate });
        const errors: Error[] = [];
        cache.errors.subscribe((e) => errors.push(e));
        assert.equal(cache.set('a', 'x'), true);
        assert.equal(errors.length, 1);
        assert.match(errors[0]!.message, new RegExp(`sizeEstimator returned ${String(estimate).replace('+', '\\+')}, not a non-negative number up to Number.MAX_SAFE_INTEGER for key "a"`));
        const usage = cache.metrics.currentUsage;
        assert.match(errors[0]!.message, /the entry is sized by defaultSizeEstimator/);
        assert.ok(usage >= 0 && usage <= FALLBACK_ENTRY_BYTES, `a fallback size: ${usage}`);
        cache.delete('a');
        assert.equal(cache.metrics.currentUsage, 0);
      }
    });

    it('an estimated size that would bring the sum past Number.MAX_SAFE_INTEGER is reported and not stored, never thrown', () => {
      const cache = cacheOf<string, string>(strategy, { sizeEstimator: () => 100 });
      const errors: Error[] = [];
      cache.errors.subscribe((e) => errors.push(e));
      cache.set('big', 'x', { size: MAX - 50, pin: true });
      cache.set('old', 'x', { size: 10 });
      assert.equal(cache.set('old', 'stale?'), false, 'replacing: not stored');
      assert.equal(cache.has('old'), false, 'and the old value is gone, as for a value that cannot fit');
      assert.equal(cache.set('new', 'x'), false);
      assert.equal(cache.has('new'), false);
      assert.equal(errors.length, 2);
      assert.match(errors[1]!.message, /estimated size of 100 bytes for key "new" would bring currentUsage \(9007199254740941 bytes\) past Number.MAX_SAFE_INTEGER.*not stored/);
      assert.equal(cache.metrics.currentUsage, MAX - 50);
      cache.delete('big');
      assert.equal(cache.metrics.currentUsage, 0);
    });

    it('property: under sets of any size (up to 1e300), pins and deletes, currentUsage is the exact sum of the stored sizes', () => {
      const size = fc.oneof(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: MAX - 1000, max: MAX }),
        fc.constantFrom(2 ** 52, 2 ** 53, 2 ** 53 + 2, 1e300, Number.MAX_VALUE, MAX / 3),
      );
      const key = fc.constantFrom('a', 'b', 'c', 'd');
      const op = fc.oneof(
        fc.record({ kind: fc.constant('set' as const), key, size, pin: fc.boolean() }),
        fc.record({ kind: fc.constant('delete' as const), key }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
          const cache = cacheOf<string, object>(strategy);
          const model = new Map<string, bigint>();
          for (const o of ops) {
            if (o.kind === 'delete') {
              cache.delete(o.key);
              model.delete(o.key);
              continue;
            }
            const bytes = BigInt(Math.ceil(o.size));
            let total = bytes;
            for (const [k, v] of model) if (k !== o.key) total += v;
            let threw = false;
            try {
              cache.set(o.key, {}, { size: o.size, pin: o.pin });
            } catch (error) {
              assert.ok(error instanceof RangeError && /size/.test(error.message), String(error));
              threw = true;
            }
            assert.equal(threw, total > BigInt(MAX), `set ${o.key} ${o.size}: refused exactly when the sum would pass MAX_SAFE_INTEGER`);
            if (!threw) model.set(o.key, bytes);
            let sum = 0n;
            for (const v of model.values()) sum += v;
            assert.equal(BigInt(cache.metrics.currentUsage), sum);
          }
          for (const k of [...model.keys()]) cache.delete(k);
          assert.equal(cache.metrics.currentUsage, 0);
        }),
        { numRuns: 300 },
      );
    });
  });
}
