// tinylfu's hill climber alone (src/cache/policies/tinylfu/hill-climber.ts):
// the window's share as a function of the samples' hit rates. The policy's
// use of it (the regions resized after a step) is tested in tinylfu.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HillClimber,
  MAX_WINDOW_FRACTION,
  MIN_WINDOW_FRACTION,
  sampleRequests,
  STEP_FRACTION,
  WINDOW_FRACTION,
} from '../../src/cache/policies/tinylfu/hill-climber.js';

const near = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);

describe('tinylfu hill climber', () => {
  it('starts at 1% and first shrinks the window (clamped at 0)', () => {
    const climber = new HillClimber();
    assert.equal(climber.fraction, WINDOW_FRACTION);
    assert.equal(climber.climb(0.5), true);
    assert.equal(climber.fraction, MIN_WINDOW_FRACTION);
  });

  it('keeps the direction that raised the hit ratio, reverses when it fell, restarts the step on a jump of 5 points and decays it otherwise', () => {
    const climber = new HillClimber();
    climber.climb(0.5); // shrinks: 0.01 -> 0 (clamped); a jump from 0: the step restarts at full size
    climber.climb(0.4); // fell by 10 points: reverses, grows by a full step
    near(climber.fraction, STEP_FRACTION, 'after the reversal');
    climber.climb(0.5); // rose by 10 points: same direction, full step again
    near(climber.fraction, 2 * STEP_FRACTION, 'after a rise');
    climber.climb(0.52); // rose by 2 points: same direction, this step full, the next one decayed
    near(climber.fraction, 3 * STEP_FRACTION, 'after a small rise');
    climber.climb(0.53); // rose by 1 point: the decayed step
    near(climber.fraction, 3 * STEP_FRACTION + 0.98 * STEP_FRACTION, 'after a second small rise');
    climber.climb(0.52); // fell by 1 point: reverses with the twice-decayed step
    near(climber.fraction, 3 * STEP_FRACTION + 0.98 * STEP_FRACTION - 0.98 * 0.98 * STEP_FRACTION, 'after a small fall');
  });

  it('stays within 0 and 80% of the budget however long it climbs', () => {
    const climber = new HillClimber();
    climber.climb(0.5);
    climber.climb(0.4); // now growing
    let highest = 0;
    for (let i = 0; i < 200; i++) {
      assert.equal(climber.climb(0.4), true); // unchanged: keeps growing, the step decaying
      highest = Math.max(highest, climber.fraction);
    }
    // The decaying steps add up to 3.1 budgets: without the bound it would pass 80%.
    assert.equal(highest, MAX_WINDOW_FRACTION);
    assert.equal(climber.fraction, MAX_WINDOW_FRACTION);
    climber.climb(0.3); // fell: turns back below the bound
    assert.ok(climber.fraction < MAX_WINDOW_FRACTION, `${climber.fraction}`);
    for (let i = 0; i < 500; i++) {
      climber.climb(i % 2 === 0 ? 0.2 : 0.1);
      assert.ok(climber.fraction >= MIN_WINDOW_FRACTION && climber.fraction <= MAX_WINDOW_FRACTION, `${climber.fraction}`);
    }
  });

  it('holds still on a sample under 1% hits (a scan), but compares the next sample with it', () => {
    const scanned = new HillClimber();
    scanned.climb(0.5);
    const before = scanned.fraction;
    assert.equal(scanned.climb(0.005), false);
    assert.equal(scanned.fraction, before);
    // 0.3 after the scan's 0.005 is a rise: it keeps shrinking (held at 0).
    scanned.climb(0.3);
    assert.equal(scanned.fraction, MIN_WINDOW_FRACTION);
    // Without the scan sample, 0.3 after 0.5 is a fall: it grows.
    const direct = new HillClimber();
    direct.climb(0.5);
    direct.climb(0.3);
    near(direct.fraction, STEP_FRACTION, 'without the scan');
  });

  it('reset() returns to the initial share and the first step shrinking', () => {
    const climber = new HillClimber();
    climber.climb(0.5);
    climber.climb(0.4);
    climber.climb(0.5);
    assert.notEqual(climber.fraction, WINDOW_FRACTION);
    climber.reset();
    assert.equal(climber.fraction, WINDOW_FRACTION);
    climber.climb(0.5);
    assert.equal(climber.fraction, MIN_WINDOW_FRACTION);
  });

  it('samples 10 requests per expected entry, for at least 16 entries', () => {
    assert.equal(sampleRequests(0), 160);
    assert.equal(sampleRequests(16), 160);
    assert.equal(sampleRequests(1000), 10_000);
  });
});
