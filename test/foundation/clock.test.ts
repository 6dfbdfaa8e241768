import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getDefaultClock, ManualClock, setDefaultClock, systemClock, type Clock } from '../../src/index.js';

describe('ManualClock', () => {
  test('fires timers in due order, ties in creation order, each with now() at its due time', () => {
    const clock = new ManualClock(100);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 20);
    clock.advance(15);
    assert.deepEqual(fired, [['a', 110]]);
    assert.equal(clock.now(), 115);
    clock.advance(5);
    assert.deepEqual(fired, [
      ['a', 110],
      ['b', 120],
      ['c', 120],
    ]);
  });

  test('a timer scheduled by a callback fires in the same advance when it falls due; cleared timers never fire', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const chain = () => {
      fired.push(clock.now());
      if (fired.length < 5) clock.setTimeout(chain, 10);
    };
    clock.setTimeout(chain, 10);
    const cancelled = clock.setTimeout(() => fired.push(-1), 15);
    clock.clearTimeout(cancelled);
    clock.advance(100);
    assert.deepEqual(fired, [10, 20, 30, 40, 50]);
    assert.equal(clock.pendingTimers, 0);
  });

  test('advanceAsync lets promise continuations run between timers', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    clock.setTimeout(() => {
      order.push('t1');
      void Promise.resolve().then(() => {
        order.push('t1-then');
        clock.setTimeout(() => order.push('t2'), 5);
      });
    }, 10);
    await clock.advanceAsync(15);
    assert.deepEqual(order, ['t1', 't1-then', 't2']);
  });

  test('rejects a negative, NaN or infinite step and a non-finite start', async () => {
    const clock = new ManualClock();
    assert.throws(() => clock.advance(-1), { name: 'RangeError', message: /ms must be a non-negative finite number, got -1/ });
    assert.throws(() => clock.advance(Number.NaN), RangeError);
    assert.throws(() => clock.advance(Number.POSITIVE_INFINITY), RangeError);
    await assert.rejects(clock.advanceAsync(-5), RangeError);
    assert.throws(() => new ManualClock(Number.NaN), { name: 'RangeError', message: /startMs must be a finite number, got NaN/ });
  });
});

describe('systemClock and the default clock', () => {
  test('systemClock timers are unref\'d and fire', async () => {
    let handle: unknown;
    await new Promise<void>((resolve) => {
      handle = systemClock.setTimeout(resolve, 1);
      assert.equal((handle as NodeJS.Timeout).hasRef(), false);
    });
    assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
  });

  test('a systemClock timer asked to keep the process alive is ref\'d and fires; clearing it releases it', async () => {
    await new Promise<void>((resolve) => {
      const handle = systemClock.setTimeout(resolve, 1, { keepAlive: true });
      assert.equal((handle as NodeJS.Timeout).hasRef(), true);
    });
    const cleared = systemClock.setTimeout(() => assert.fail('a cleared timer fired'), 1, { keepAlive: true });
    systemClock.clearTimeout(cleared);
    assert.equal((systemClock.setTimeout(() => {}, 0, { keepAlive: false }) as NodeJS.Timeout).hasRef(), false);
  });

  test('a delay beyond the 32-bit timer limit is clamped instead of firing at once', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 2 ** 32);
    await new Promise((resolve) => setTimeout(resolve, 30));
    systemClock.clearTimeout(handle);
    assert.equal(fired, false);
  });

  test('setDefaultClock replaces the default and returns a restore function; a non-clock is refused', () => {
    const manual = new ManualClock();
    assert.equal(getDefaultClock(), systemClock);
    const restore = setDefaultClock(manual);
    assert.equal(getDefaultClock(), manual);
    restore();
    assert.equal(getDefaultClock(), systemClock);
    assert.throws(() => setDefaultClock({ now: () => 0 } as unknown as Clock), { name: 'TypeError', message: /clock\.setTimeout must be a function/ });
    assert.throws(() => setDefaultClock(null as unknown as Clock), { name: 'TypeError', message: /clock must be a Clock.*null/ });
    assert.equal(getDefaultClock(), systemClock);
  });
});
