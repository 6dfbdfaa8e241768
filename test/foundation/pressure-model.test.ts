import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { comparePressure, isMemoryPressureLevel, maxPressure, MemoryThresholds, PRESSURE_LEVELS, usageOf, type MemoryPressureLevel } from '../../src/index.js';
import { levelAtRank, pressureRank } from '../../src/pressure-levels.js';

describe('levels', () => {
  test('PRESSURE_LEVELS lists normal, moderate, critical, emergency in that order and cannot be changed', () => {
    assert.deepEqual([...PRESSURE_LEVELS], ['normal', 'moderate', 'critical', 'emergency']);
    assert.ok(Object.isFrozen(PRESSURE_LEVELS));
    assert.throws(() => (PRESSURE_LEVELS as MemoryPressureLevel[]).push('normal'), TypeError);
  });

  test('levelAtRank is the inverse of pressureRank, over PRESSURE_LEVELS', () => {
    for (const [rank, level] of PRESSURE_LEVELS.entries()) {
      assert.equal(pressureRank(level), rank);
      assert.equal(levelAtRank(rank), level);
    }
  });

  test('comparePressure is negative, zero or positive following that order, and sorts', () => {
    for (const [i, a] of PRESSURE_LEVELS.entries()) {
      for (const [j, b] of PRESSURE_LEVELS.entries()) {
        assert.equal(Math.sign(comparePressure(a, b)), Math.sign(i - j), `${a} vs ${b}`);
      }
    }
    const shuffled: MemoryPressureLevel[] = ['critical', 'normal', 'emergency', 'moderate'];
    assert.deepEqual(shuffled.sort(comparePressure), ['normal', 'moderate', 'critical', 'emergency']);
    assert.equal(maxPressure('moderate', 'critical'), 'critical');
    assert.equal(maxPressure('emergency', 'normal'), 'emergency');
  });

  test('comparePressure rejects anything that is not a level with a RangeError naming it', () => {
    assert.throws(() => comparePressure('warning' as MemoryPressureLevel, 'normal'), { name: 'RangeError', message: /^a must be one of normal, moderate, critical, emergency, got "warning"$/ });
    assert.throws(() => comparePressure('normal', undefined as unknown as MemoryPressureLevel), { name: 'RangeError', message: /^b must be .*got undefined$/ });
    assert.equal(isMemoryPressureLevel('hasOwnProperty'), false);
    assert.equal(isMemoryPressureLevel('critical'), true);
  });

  test('usageOf is used / (used + available), and 0 when the total is 0', () => {
    assert.equal(usageOf(50, 50), 0.5);
    assert.equal(usageOf(90, 10), 0.9);
    assert.equal(usageOf(0, 0), 0);
  });
});

describe('MemoryThresholds', () => {
  test('the presets are 0.70/0.85/0.95 and 0.60/0.75/0.90, both with hysteresis 0.05', () => {
    assert.deepEqual(MemoryThresholds.default.toJSON(), { moderate: 0.7, critical: 0.85, emergency: 0.95, hysteresis: 0.05 });
    assert.deepEqual(MemoryThresholds.conservative.toJSON(), { moderate: 0.6, critical: 0.75, emergency: 0.9, hysteresis: 0.05 });
    assert.ok(Object.isFrozen(MemoryThresholds.default));
  });

  test('emergency defaults to 0.95, or halfway from critical to 1 when critical >= 0.95', () => {
    assert.equal(new MemoryThresholds({ moderate: 0.5, critical: 0.8 }).emergency, 0.95);
    assert.equal(new MemoryThresholds({ moderate: 0.9, critical: 0.96 }).emergency, 0.98);
    assert.equal(new MemoryThresholds({ moderate: 0.9, critical: 0.95 }).emergency, 0.975);
  });

  test('hysteresis defaults to 0.05, or less so that it stays below moderate', () => {
    assert.equal(new MemoryThresholds({ moderate: 0.5, critical: 0.8 }).hysteresis, 0.05);
    const small = new MemoryThresholds({ moderate: 0.04, critical: 0.5 });
    assert.ok(small.hysteresis < small.moderate && small.hysteresis >= 0, String(small.hysteresis));
    assert.equal(new MemoryThresholds({ moderate: 0.5, critical: 0.8, hysteresis: 0 }).hysteresis, 0);
  });

  test('rejects thresholds out of range, out of order, NaN or infinite with a RangeError naming the field and value', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /thresholds must be an object/],
      [{ moderate: 0, critical: 0.5 }, /^moderate must be in \(0, 1\), got 0$/],
      [{ moderate: -0.1, critical: 0.5 }, /^moderate .*got -0\.1$/],
      [{ moderate: 1, critical: 1.2 }, /^moderate .*got 1$/],
      [{ moderate: Number.NaN, critical: 0.5 }, /^moderate must be a finite number, got NaN$/],
      [{ moderate: '0.5', critical: 0.8 }, /^moderate must be a finite number, got "0\.5"$/],
      [{ moderate: 0.5, critical: Number.POSITIVE_INFINITY }, /^critical must be a finite number, got Infinity$/],
      [{ moderate: 0.8, critical: 0.7 }, /^critical must be above moderate \(0\.8\), got 0\.7$/],
      [{ moderate: 0.7, critical: 0.7 }, /^critical must be above moderate/],
      [{ moderate: 0.7, critical: 1 }, /^critical must be below 1, got 1$/],
      [{ moderate: 0.7, critical: 0.85, emergency: 0.8 }, /^emergency must be above critical \(0\.85\), got 0\.8$/],
      [{ moderate: 0.7, critical: 0.85, emergency: 1.01 }, /^emergency must be at most 1, got 1\.01$/],
      [{ moderate: 0.7, critical: 0.85, emergency: Number.NaN }, /^emergency must be a finite number, got NaN$/],
      [{ moderate: 0.7, critical: 0.85, hysteresis: -0.01 }, /^hysteresis must be in \[0, moderate = 0\.7\), got -0\.01$/],
      [{ moderate: 0.1, critical: 0.85, hysteresis: 0.1 }, /^hysteresis .*got 0\.1$/],
      [{ moderate: 0.7, critical: 0.85, hysteresis: Number.NaN }, /^hysteresis must be a finite number, got NaN$/],
    ];
    for (const [init, message] of cases) {
      assert.throws(() => new MemoryThresholds(init as never), { name: 'RangeError', message }, JSON.stringify(init));
    }
    assert.equal(new MemoryThresholds({ moderate: 0.7, critical: 0.85, emergency: 1 }).emergency, 1);
  });

  test('levelFor is the highest level whose threshold usage reaches, inclusive', () => {
    const t = MemoryThresholds.default;
    const cases: Array<[number, MemoryPressureLevel]> = [
      [0, 'normal'],
      [0.6999, 'normal'],
      [0.7, 'moderate'],
      [0.8499, 'moderate'],
      [0.85, 'critical'],
      [0.9499, 'critical'],
      [0.95, 'emergency'],
      [1, 'emergency'],
      [1.5, 'emergency'],
    ];
    for (const [usage, level] of cases) assert.equal(t.levelFor(usage), level, `usage ${usage}`);
  });

  test('levelFor rejects NaN, negative usage and an unknown previous level', () => {
    const t = MemoryThresholds.default;
    assert.throws(() => t.levelFor(Number.NaN), { name: 'RangeError', message: /usage must be a non-negative number, got NaN/ });
    assert.throws(() => t.levelFor(-0.1), { name: 'RangeError', message: /got -0\.1/ });
    assert.throws(() => t.levelFor('0.5' as unknown as number), RangeError);
    assert.throws(() => t.levelFor(0.5, 'warning' as MemoryPressureLevel), { name: 'RangeError', message: /previous must be one of .*"warning"/ });
  });

  test('with a previous level, rising is immediate but a level is left only below its threshold minus hysteresis', () => {
    const t = MemoryThresholds.default;
    assert.equal(t.levelFor(0.7, 'normal'), 'moderate');
    assert.equal(t.levelFor(0.96, 'normal'), 'emergency');
    assert.equal(t.levelFor(0.66, 'moderate'), 'moderate', 'inside the band');
    assert.equal(t.levelFor(0.65, 'moderate'), 'moderate', 'at the band edge, threshold - hysteresis is still in');
    assert.equal(t.levelFor(0.6499, 'moderate'), 'normal');
    assert.equal(t.levelFor(0.81, 'critical'), 'critical');
    assert.equal(t.levelFor(0.79, 'critical'), 'moderate');
    assert.equal(t.levelFor(0.91, 'emergency'), 'emergency');
    assert.equal(t.levelFor(0.89, 'emergency'), 'critical');
    assert.equal(t.levelFor(0.5, 'emergency'), 'normal', 'a large drop lands where usage is');
  });

  test('usage exactly at threshold minus hysteresis keeps the level; just below leaves it', () => {
    // Binary fractions, so the subtraction is exact.
    const t = new MemoryThresholds({ moderate: 0.5, critical: 0.75, emergency: 0.875, hysteresis: 0.125 });
    assert.equal(t.levelFor(0.375, 'moderate'), 'moderate');
    assert.equal(t.levelFor(0.375 - 2 ** -20, 'moderate'), 'normal');
    assert.equal(t.levelFor(0.625, 'critical'), 'critical');
    assert.equal(t.levelFor(0.625 - 2 ** -20, 'critical'), 'moderate');
  });

  test('a usage hovering around a threshold does not flap', () => {
    const t = MemoryThresholds.default;
    let level: MemoryPressureLevel = 'normal';
    const levels: MemoryPressureLevel[] = [];
    for (const usage of [0.69, 0.7, 0.69, 0.71, 0.68, 0.7, 0.66]) {
      level = t.levelFor(usage, level);
      levels.push(level);
    }
    assert.deepEqual(levels, ['normal', 'moderate', 'moderate', 'moderate', 'moderate', 'moderate', 'moderate']);
  });

  test('property: levelFor with a previous level never differs from levelFor without it by more than the hysteresis band', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1.2, noNaN: true }), fc.constantFrom(...PRESSURE_LEVELS), (usage, previous) => {
        const t = MemoryThresholds.default;
        const plain = t.levelFor(usage);
        const sticky = t.levelFor(usage, previous);
        // Never lower than the plain level; higher only by staying at `previous` within its band.
        assert.ok(comparePressure(sticky, plain) >= 0);
        if (sticky !== plain) {
          assert.equal(sticky, previous);
          assert.ok(usage >= t.thresholdOf(previous) - t.hysteresis);
        }
      }),
    );
  });
});
