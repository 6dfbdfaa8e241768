import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeValue, isThenable, requireDurationMs } from '../../src/checks.js';
import { clockOption, getDefaultClock, ManualClock } from '../../src/clock.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { PollingMemoryMonitor } from '../../src/pressure/polling-memory-monitor.js';

describe('describeValue', () => {
  test('shows primitives as written, strings quoted and cut, and objects by their kind only', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'undefined'],
      [null, 'null'],
      [0, '0'],
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
      [true, 'true'],
      ['10', '"10"'],
      ['x'.repeat(100), `"${'x'.repeat(57)}..."`],
      [12n, '12n'],
      [Symbol('k'), 'Symbol(k)'],
      [() => 1, 'a function'],
      [{ toString: () => 'secret' }, 'an object'],
      [[], 'an empty array'],
      [['a', 1, null], '["a", 1, null]'],
      [[{}], 'an array of 1 item'],
      [Array.from({ length: 9 }, (_, i) => i), 'an array of 9 items'],
    ];
    for (const [value, expected] of cases) assert.equal(describeValue(value), expected);
  });
});

describe('requireDurationMs', () => {
  test('returns a valid duration unchanged', () => {
    assert.equal(requireDurationMs('waitMs', 0.5), 0.5);
    assert.equal(requireDurationMs('waitMs', 0, { allowZero: true }), 0);
  });

  test('refuses anything else with a RangeError naming the field and the value', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5', undefined, null]) {
      assert.throws(() => requireDurationMs('waitMs', bad), {
        name: 'RangeError',
        message: `waitMs must be a positive finite number of milliseconds, got ${describeValue(bad)}`,
      });
    }
    assert.throws(() => requireDurationMs('waitMs', -1, { allowZero: true }), {
      name: 'RangeError',
      message: 'waitMs must be a non-negative finite number of milliseconds, got -1',
    });
  });
});

describe('isThenable', () => {
  test('is true for promises and for objects or functions with a then method, false otherwise', () => {
    const thenableFunction = Object.assign(() => 1, { then: () => undefined });
    for (const yes of [Promise.resolve(1), { then: () => undefined }, thenableFunction]) assert.equal(isThenable(yes), true);
    for (const no of [undefined, null, 1, 'then', { then: 1 }, () => 1]) assert.equal(isThenable(no), false);
  });
});

describe('clockOption: every clock option is checked by requireClock', () => {
  test('an omitted clock is the default one; a given clock is kept', () => {
    assert.equal(clockOption(undefined), getDefaultClock());
    const clock = new ManualClock();
    assert.equal(clockOption(clock), clock);
  });

  test('the components that used to check by hand now name the missing method', () => {
    const noClear = { now: () => 0, setTimeout: () => 0 };
    assert.throws(() => new MemoryBackend({ idOf: (x: { id: number }) => x.id, clock: noClear as never }), {
      name: 'TypeError',
      message: 'clock.clearTimeout must be a function',
    });
    assert.throws(() => new PollingMemoryMonitor({ memoryProvider: () => ({ usedBytes: 0, availableBytes: 0 }), clock: 'now' as never }), {
      name: 'TypeError',
      message: /^clock must be a Clock .*got string$/,
    });
  });
});
