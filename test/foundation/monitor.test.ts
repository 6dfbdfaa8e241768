import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ManualClock,
  MemoryThresholds,
  PollingMemoryMonitor,
  setDefaultClock,
  type Clock,
  type MemoryPressureLevel,
  type MemorySample,
  type MemoryState,
  type MemoryTelemetry,
} from '../../src/index.js';
import { deferred, settle } from './helpers.js';

/** A provider whose reading is set by the test: `usedFraction` of 1000 bytes. */
function dial(usedFraction = 0.5) {
  const state = { usedFraction, calls: 0 };
  const provider = (): MemorySample => {
    state.calls++;
    const used = Math.round(state.usedFraction * 1000);
    return { usedBytes: used, availableBytes: 1000 - used, source: 'test' };
  };
  return { state, provider };
}

function record<T>(stream: { subscribe(f: (v: T) => void): unknown }): T[] {
  const seen: T[] = [];
  stream.subscribe((v) => seen.push(v));
  return seen;
}

describe('seed 000', () => {
  test('test_statePublisher_emitsStateChanges: a rise to 90% usage is published as critical', () => {
    const clock = new ManualClock();
    let emittedMemory = { available: 100, used: 50 };
    const sut = new PollingMemoryMonitor({
      thresholds: MemoryThresholds.default,
      pollingIntervalMs: 100,
      memoryProvider: () => ({ usedBytes: emittedMemory.used, availableBytes: emittedMemory.available }),
      clock,
    });
    const receivedStates: MemoryState[] = [];
    const cancellable = sut.states.subscribe((s) => receivedStates.push(s));

    sut.startMonitoring();
    emittedMemory = { available: 10, used: 90 };
    clock.advance(200);

    assert.ok(receivedStates.some((s) => s.level === 'critical'));
    assert.equal(receivedStates.at(-1)?.usage, 0.9);
    cancellable.unsubscribe();
    sut.stopMonitoring();
  });
});

describe('states and pressure', () => {
  test('before any sample the state is normal with zero bytes, and both streams replay it', () => {
    const clock = new ManualClock(1234);
    const monitor = new PollingMemoryMonitor({ memoryProvider: dial().provider, clock });
    const initial = monitor.currentMemoryState();
    assert.deepEqual({ ...initial, source: undefined }, { usedBytes: 0, availableBytes: 0, usage: 0, level: 'normal', source: undefined, at: 1234 });
    assert.equal(monitor.currentPressure(), 'normal');
    assert.deepEqual(record(monitor.states), [initial]);
    assert.deepEqual(record(monitor.pressure), ['normal']);
  });

  test('startMonitoring samples at once (synchronously for a synchronous provider), then every interval', () => {
    const clock = new ManualClock(1_000);
    const { state, provider } = dial(0.42);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 250, clock });
    const states = record(monitor.states);
    monitor.startMonitoring();
    assert.equal(state.calls, 1);
    assert.deepEqual(monitor.currentMemoryState(), { usedBytes: 420, availableBytes: 580, usage: 0.42, level: 'normal', source: 'test', at: 1_000 });
    clock.advance(249);
    assert.equal(state.calls, 1);
    clock.advance(1);
    assert.equal(state.calls, 2);
    clock.advance(1_000);
    assert.equal(state.calls, 6);
    assert.equal(states.length, 7, 'initial replay + 6 samples');
    assert.deepEqual(
      states.slice(1).map((s) => s.at),
      [1_000, 1_250, 1_500, 1_750, 2_000, 2_250],
    );
    monitor.stopMonitoring();
  });

  test('the default interval is 5000 ms', () => {
    const clock = new ManualClock();
    const { state, provider } = dial();
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, clock });
    monitor.startMonitoring();
    clock.advance(4_999);
    assert.equal(state.calls, 1);
    clock.advance(1);
    assert.equal(state.calls, 2);
    monitor.stopMonitoring();
  });

  test('pressure emits only when the level changes; states emits every sample', () => {
    const clock = new ManualClock();
    const { state, provider } = dial(0.5);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 10, clock });
    const levels = record(monitor.pressure);
    const states = record(monitor.states);
    monitor.startMonitoring();
    for (const usage of [0.5, 0.72, 0.75, 0.9, 0.88, 0.97, 0.2, 0.2]) {
      state.usedFraction = usage;
      clock.advance(10);
    }
    assert.deepEqual(levels, ['normal', 'moderate', 'critical', 'emergency', 'normal']);
    assert.equal(states.length, 10);
    monitor.stopMonitoring();
  });

  test('levels follow the thresholds with hysteresis across samples', () => {
    const clock = new ManualClock();
    const { state, provider } = dial(0.7);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 10, clock });
    monitor.startMonitoring();
    assert.equal(monitor.currentPressure(), 'moderate');
    state.usedFraction = 0.66;
    clock.advance(10);
    assert.equal(monitor.currentPressure(), 'moderate', 'within 0.05 below moderate it stays');
    state.usedFraction = 0.64;
    clock.advance(10);
    assert.equal(monitor.currentPressure(), 'normal');
    monitor.stopMonitoring();
  });

  test('a sample that states its own level is published with that level', () => {
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => ({ usedBytes: 10, availableBytes: 990, level: 'critical', source: 'psi' }),
      clock: new ManualClock(),
    });
    monitor.startMonitoring();
    assert.equal(monitor.currentMemoryState().level, 'critical');
    assert.equal(monitor.currentMemoryState().source, 'psi');
    monitor.stopMonitoring();
  });

  test("a sample without source is labelled 'custom'", async () => {
    const monitor = new PollingMemoryMonitor({ memoryProvider: () => ({ usedBytes: 1, availableBytes: 1 }), clock: new ManualClock() });
    assert.equal((await monitor.poll()).source, 'custom');
  });
});

describe('the timer', () => {
  test('startMonitoring twice keeps one timer; stopMonitoring stops it and start works again', () => {
    const clock = new ManualClock();
    const { state, provider } = dial();
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 100, clock });
    monitor.startMonitoring();
    monitor.startMonitoring();
    monitor.startMonitoring();
    assert.equal(clock.pendingTimers, 1);
    assert.equal(state.calls, 1);
    clock.advance(1_000);
    assert.equal(state.calls, 11);
    assert.equal(clock.pendingTimers, 1);
    monitor.stopMonitoring();
    assert.equal(monitor.isMonitoring, false);
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1_000);
    assert.equal(state.calls, 11);
    monitor.startMonitoring();
    assert.equal(state.calls, 12);
    assert.equal(clock.pendingTimers, 1);
    monitor.stopMonitoring();
    monitor.stopMonitoring();
  });

  test('an asynchronous provider: first sample after it resolves; a slow one is never stacked', async () => {
    const clock = new ManualClock();
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<MemorySample>((resolve) =>
          clock.setTimeout(() => {
            inFlight--;
            resolve({ usedBytes: 900, availableBytes: 100 });
          }, 250),
        );
      },
      pollingIntervalMs: 100,
      clock,
    });
    monitor.startMonitoring();
    monitor.startMonitoring();
    assert.equal(calls, 1);
    assert.equal(monitor.currentPressure(), 'normal');
    await clock.advanceAsync(250);
    assert.equal(monitor.currentPressure(), 'critical');
    await clock.advanceAsync(1_000);
    assert.equal(maxInFlight, 1);
    // One cycle is 250 ms of sampling then 100 ms of waiting.
    assert.equal(calls, 4);
    monitor.stopMonitoring();
    await clock.advanceAsync(1_000);
    assert.equal(clock.pendingTimers, 0);
  });

  test('stopMonitoring while an asynchronous sample is in flight leaves no timer behind', async () => {
    const clock = new ManualClock();
    const gate = deferred<MemorySample>();
    const monitor = new PollingMemoryMonitor({ memoryProvider: () => gate.promise, pollingIntervalMs: 100, clock });
    monitor.startMonitoring();
    monitor.stopMonitoring();
    gate.resolve({ usedBytes: 1, availableBytes: 1 });
    await settle();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(monitor.currentMemoryState().usedBytes, 1, 'the sample still lands');
  });

  test('pollingIntervalMsByLevel polls faster at raised levels', () => {
    const clock = new ManualClock();
    const { state, provider } = dial(0.9);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 1_000, pollingIntervalMsByLevel: { critical: 100 }, clock });
    monitor.startMonitoring();
    assert.equal(monitor.currentPollingIntervalMs(), 100);
    clock.advance(1_000);
    assert.equal(state.calls, 11);
    state.usedFraction = 0.1;
    clock.advance(100);
    assert.equal(monitor.currentPollingIntervalMs(), 1_000);
    clock.advance(999);
    assert.equal(state.calls, 12);
    monitor.stopMonitoring();
  });

  test('poll() samples now and returns the state; concurrent polls share one provider call', async () => {
    const clock = new ManualClock(5);
    let calls = 0;
    const gate = deferred<MemorySample>();
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => {
        calls++;
        return gate.promise;
      },
      clock,
    });
    const a = monitor.poll();
    const b = monitor.poll();
    assert.equal(a, b);
    gate.resolve({ usedBytes: 30, availableBytes: 70, source: 'heap' });
    assert.deepEqual(await a, { usedBytes: 30, availableBytes: 70, usage: 0.3, level: 'normal', source: 'heap', at: 5 });
    assert.equal(calls, 1);
    assert.equal(clock.pendingTimers, 0, 'poll() alone starts no timer');
  });

  test('uses the process-wide default clock when none is given', () => {
    const clock = new ManualClock();
    const restore = setDefaultClock(clock);
    try {
      const { state, provider } = dial();
      const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 50 });
      monitor.startMonitoring();
      clock.advance(100);
      assert.equal(state.calls, 3);
      monitor.stopMonitoring();
    } finally {
      restore();
    }
  });
});

describe('bad providers and bad samples', () => {
  test('a provider that throws publishes an Error on errors, keeps the last good state, and the next poll still runs', () => {
    const clock = new ManualClock();
    let mode: 'ok' | 'throw' = 'ok';
    const cause = new Error('sysfs unreadable');
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => {
        if (mode === 'throw') throw cause;
        return { usedBytes: 800, availableBytes: 200 };
      },
      pollingIntervalMs: 100,
      clock,
    });
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    const good = monitor.currentMemoryState();
    mode = 'throw';
    clock.advance(200);
    assert.equal(errors.length, 2);
    assert.match(errors[0]?.message ?? '', /^memoryProvider threw: sysfs unreadable$/);
    assert.equal(errors[0]?.cause, cause);
    assert.equal(monitor.currentMemoryState(), good);
    assert.equal(monitor.currentPressure(), 'moderate');
    mode = 'ok';
    clock.advance(100);
    assert.equal(monitor.currentMemoryState().at, 300);
    assert.equal(clock.pendingTimers, 1);
    monitor.stopMonitoring();
  });

  test('a provider that rejects (even with a non-Error) is reported the same way and polling goes on', async () => {
    const clock = new ManualClock();
    let reject = true;
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => (reject ? Promise.reject('cgroup gone') : Promise.resolve({ usedBytes: 1, availableBytes: 3 })),
      pollingIntervalMs: 100,
      clock,
    });
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    await settle();
    assert.match(errors[0]?.message ?? '', /^memoryProvider rejected: cgroup gone$/);
    assert.equal(monitor.currentMemoryState().usedBytes, 0);
    reject = false;
    await clock.advanceAsync(100);
    assert.equal(monitor.currentMemoryState().usage, 0.25);
    monitor.stopMonitoring();
  });

  test('bad samples are refused with a RangeError naming the field and value; the last good state stays', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ usedBytes: -1, availableBytes: 10 }, /usedBytes must be a non-negative finite number, got -1/],
      [{ usedBytes: 10, availableBytes: -5 }, /availableBytes .*got -5/],
      [{ usedBytes: Number.NaN, availableBytes: 10 }, /usedBytes .*got NaN/],
      [{ usedBytes: 10, availableBytes: Number.POSITIVE_INFINITY }, /availableBytes .*got Infinity/],
      [{ usedBytes: '10', availableBytes: 10 }, /usedBytes .*got "10"/],
      [{ availableBytes: 10 }, /usedBytes .*got undefined/],
      [null, /expected an object, got null/],
      [42, /expected an object, got 42/],
      [{ usedBytes: 1, availableBytes: 1, source: 7 }, /source must be a string, got 7/],
      [{ usedBytes: 1, availableBytes: 1, level: 'warning' }, /level must be one of .*"warning"/],
      [
        Object.defineProperty({ availableBytes: 1 }, 'usedBytes', {
          get() {
            throw new Error('getter broke');
          },
        }),
        /reading it threw: getter broke/,
      ],
    ];
    for (const [sample, message] of bad) {
      let next: unknown = { usedBytes: 100, availableBytes: 100 };
      const monitor = new PollingMemoryMonitor({ memoryProvider: () => next as MemorySample, clock: new ManualClock() });
      const errors = record(monitor.errors);
      const good = await monitor.poll();
      next = sample;
      assert.equal(await monitor.poll(), good);
      next = Promise.resolve(sample);
      assert.equal(await monitor.poll(), good);
      assert.equal(errors.length, 2);
      for (const error of errors) {
        assert.equal(error.name, 'RangeError');
        assert.match(error.message, /^memoryProvider returned a bad sample: /);
        assert.match(error.message, message);
      }
    }
  });

  test('a throwing states listener does not stop the monitor', () => {
    const clock = new ManualClock();
    const { state, provider } = dial();
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 10, clock });
    const original = console.error;
    console.error = () => {};
    try {
      monitor.states.subscribe((s) => {
        if (s.usedBytes > 0) throw new Error('listener bug');
      });
      const seen = record(monitor.states);
      monitor.startMonitoring();
      clock.advance(20);
      assert.equal(state.calls, 3);
      assert.equal(seen.length, 4);
    } finally {
      console.error = original;
      monitor.stopMonitoring();
    }
  });

  test('rejects invalid options with an error naming the field and value', () => {
    const memoryProvider = dial().provider;
    const cases: Array<[unknown, string, RegExp]> = [
      [undefined, 'TypeError', /options must be an object with a memoryProvider/],
      [{}, 'TypeError', /memoryProvider must be a function, got undefined/],
      [{ memoryProvider: 5 }, 'TypeError', /memoryProvider must be a function, got 5/],
      [{ memoryProvider, thresholds: { moderate: 0.5, critical: 0.7 } }, 'TypeError', /thresholds must be a MemoryThresholds instance/],
      [{ memoryProvider, pollingIntervalMs: 0 }, 'RangeError', /pollingIntervalMs must be a positive finite number of milliseconds, got 0/],
      [{ memoryProvider, pollingIntervalMs: -10 }, 'RangeError', /pollingIntervalMs .*got -10/],
      [{ memoryProvider, pollingIntervalMs: Number.NaN }, 'RangeError', /pollingIntervalMs .*got NaN/],
      [{ memoryProvider, pollingIntervalMs: Number.POSITIVE_INFINITY }, 'RangeError', /pollingIntervalMs .*got Infinity/],
      [{ memoryProvider, pollingIntervalMsByLevel: { warning: 10 } }, 'RangeError', /pollingIntervalMsByLevel keys must be one of .*"warning"/],
      [{ memoryProvider, pollingIntervalMsByLevel: { critical: 0 } }, 'RangeError', /pollingIntervalMsByLevel\.critical .*got 0/],
      [{ memoryProvider, clock: {} }, 'TypeError', /clock\.now must be a function/],
      [{ memoryProvider, telemetry: 3 }, 'TypeError', /telemetry must be a MemoryTelemetry object, got 3/],
    ];
    for (const [options, name, message] of cases) {
      assert.throws(() => new PollingMemoryMonitor(options as never), { name, message }, String(JSON.stringify(options)));
    }
  });
});

describe('a provider that never settles', () => {
  /** A provider answering each call with the next of `answers` (a sample, or 'hang' for a promise that never settles, or a deferred). */
  function scripted(answers: Array<MemorySample | 'hang' | Promise<MemorySample>>) {
    const state = { calls: 0 };
    const provider = (): Promise<MemorySample> => {
      const answer = answers[state.calls++] ?? 'hang';
      if (answer === 'hang') return new Promise<MemorySample>(() => {});
      return answer instanceof Promise ? answer : Promise.resolve(answer);
    };
    return { state, provider };
  }

  const good = { usedBytes: 750, availableBytes: 250, source: 'test' };

  test('the sample times out after sampleTimeoutMs: the timeout is published on errors, the last good state stays, and polling goes on', async () => {
    const clock = new ManualClock();
    const later = { usedBytes: 100, availableBytes: 900, source: 'test' };
    const { state, provider } = scripted([good, 'hang', later]);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 100, sampleTimeoutMs: 250, clock });
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    await settle();
    const last = monitor.currentMemoryState();
    assert.equal(last.level, 'moderate');
    await clock.advanceAsync(100);
    assert.equal(state.calls, 2, 'the second sample is in flight and hangs');
    await clock.advanceAsync(249);
    assert.equal(errors.length, 0, 'not yet timed out');
    assert.equal(state.calls, 2, 'due ticks are skipped while the sample is in flight');
    await clock.advanceAsync(1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.message, 'memoryProvider did not settle within sampleTimeoutMs (250 ms); the sample was abandoned');
    assert.equal(monitor.currentMemoryState(), last, 'the last good state stays');
    await clock.advanceAsync(100);
    assert.equal(state.calls, 3, 'the next poll samples again');
    assert.deepEqual(monitor.currentMemoryState(), { usedBytes: 100, availableBytes: 900, usage: 0.1, level: 'normal', source: 'test', at: 450 });
    monitor.stopMonitoring();
  });

  test('an abandoned sample that settles later changes nothing: a newer state is not overwritten, a late rejection is not reported', async () => {
    const clock = new ManualClock();
    const late = deferred<MemorySample>();
    const lateFailure = deferred<MemorySample>();
    const newer = { usedBytes: 300, availableBytes: 700, source: 'newer' };
    const { provider } = scripted([late.promise, newer, lateFailure.promise, newer]);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 100, sampleTimeoutMs: 50, clock });
    const errors = record(monitor.errors);
    const states = record(monitor.states);
    const first = monitor.poll();
    await clock.advanceAsync(50);
    assert.equal((await first).source, 'none', 'the timed-out poll resolves with the last good (initial) state');
    await monitor.poll();
    assert.equal(monitor.currentMemoryState().source, 'newer');
    late.resolve({ usedBytes: 999, availableBytes: 1, source: 'stale' });
    const third = monitor.poll();
    await clock.advanceAsync(50);
    await third;
    lateFailure.reject(new Error('too late'));
    await settle();
    assert.equal(monitor.currentMemoryState().source, 'newer');
    assert.deepEqual(
      states.map((s) => s.source),
      ['none', 'newer'],
    );
    assert.deepEqual(
      errors.map((e) => e.message),
      [
        'memoryProvider did not settle within sampleTimeoutMs (50 ms); the sample was abandoned',
        'memoryProvider did not settle within sampleTimeoutMs (50 ms); the sample was abandoned',
      ],
    );
    assert.equal((await monitor.poll()).source, 'newer', 'and the next poll samples again');
  });

  test('stopMonitoring and startMonitoring during a hung sample recover: sampling resumes once it times out', async () => {
    const clock = new ManualClock();
    const { state, provider } = scripted(['hang', good, good]);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 100, sampleTimeoutMs: 300, clock });
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    await clock.advanceAsync(100);
    monitor.stopMonitoring();
    monitor.startMonitoring();
    assert.equal(state.calls, 1, 'a restart joins the sample in flight rather than stacking another');
    await clock.advanceAsync(200);
    assert.equal(errors.length, 1);
    assert.equal(monitor.currentMemoryState().source, 'none');
    await clock.advanceAsync(100);
    assert.equal(state.calls, 2);
    assert.equal(monitor.currentMemoryState().level, 'moderate');
    await clock.advanceAsync(100);
    assert.equal(state.calls, 3, 'and the timer chain goes on');
    assert.equal(clock.pendingTimers, 1, 'one polling timer, no sample timeout left behind');
    monitor.stopMonitoring();
    assert.equal(clock.pendingTimers, 0);
  });

  test('the sample timeout keeps the process alive only for a poll() a caller awaits, also when that caller joins a timer poll', async () => {
    const manual = new ManualClock();
    const asked: Array<{ delayMs: number; keepAlive: boolean | undefined }> = [];
    const clock: Clock = {
      now: () => manual.now(),
      setTimeout(callback, delayMs, options) {
        asked.push({ delayMs, keepAlive: options?.keepAlive });
        return manual.setTimeout(callback, delayMs);
      },
      clearTimeout: (handle) => manual.clearTimeout(handle),
    };
    const { provider } = scripted(['hang', 'hang']);
    const monitor = new PollingMemoryMonitor({ memoryProvider: provider, pollingIntervalMs: 1_000, sampleTimeoutMs: 400, clock });
    monitor.startMonitoring();
    assert.deepEqual(asked, [{ delayMs: 400, keepAlive: false }], 'a timer poll: a background timeout');
    await manual.advanceAsync(150);
    const joined = monitor.poll();
    assert.deepEqual(asked.at(-1), { delayMs: 250, keepAlive: true }, 'joined by a caller: re-armed to keep the process alive, same deadline');
    await manual.advanceAsync(250);
    assert.equal((await joined).source, 'none');
    assert.equal(manual.pendingTimers, 1, 'the first timeout was cleared when re-armed; the polling timer is left');
    monitor.stopMonitoring();
    void monitor.poll();
    assert.deepEqual(asked.at(-1), { delayMs: 400, keepAlive: true }, 'an explicit poll: a timeout that keeps the process alive');
    await manual.advanceAsync(400);
  });

  test('sampleTimeoutMs defaults to twice pollingIntervalMs, between 1000 and 10000, and is validated', () => {
    const memoryProvider = () => ({ usedBytes: 1, availableBytes: 1 });
    const clock = new ManualClock();
    assert.equal(new PollingMemoryMonitor({ memoryProvider, clock }).sampleTimeoutMs, 10_000);
    assert.equal(new PollingMemoryMonitor({ memoryProvider, clock, pollingIntervalMs: 100 }).sampleTimeoutMs, 1_000);
    assert.equal(new PollingMemoryMonitor({ memoryProvider, clock, pollingIntervalMs: 3_000 }).sampleTimeoutMs, 6_000);
    assert.equal(new PollingMemoryMonitor({ memoryProvider, clock, pollingIntervalMs: 60_000 }).sampleTimeoutMs, 10_000);
    assert.equal(new PollingMemoryMonitor({ memoryProvider, clock, sampleTimeoutMs: 30_000 }).sampleTimeoutMs, 30_000);
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
      assert.throws(() => new PollingMemoryMonitor({ memoryProvider, clock, sampleTimeoutMs: bad as number }), {
        name: 'RangeError',
        message: `sampleTimeoutMs must be a positive finite number of milliseconds, got ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`,
      });
    }
  });
});

describe('telemetry', () => {
  function telemetrySpy() {
    const calls = { errors: [] as Error[], changes: [] as Array<[MemoryPressureLevel, MemoryPressureLevel]> };
    const telemetry: MemoryTelemetry = {
      recordCacheSize() {},
      recordEviction() {},
      recordPressureChange(from, to) {
        calls.changes.push([from, to]);
      },
      recordError(error) {
        calls.errors.push(error);
      },
    };
    return { telemetry, calls };
  }

  test('records every level change as (from, to) and every published error', () => {
    const clock = new ManualClock();
    const { telemetry, calls } = telemetrySpy();
    let sample: unknown = { usedBytes: 10, availableBytes: 90 };
    const monitor = new PollingMemoryMonitor({ memoryProvider: () => sample as MemorySample, pollingIntervalMs: 10, clock, telemetry });
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    sample = { usedBytes: 90, availableBytes: 10 };
    clock.advance(10);
    clock.advance(10);
    sample = { usedBytes: -1, availableBytes: 10 };
    clock.advance(10);
    sample = { usedBytes: 75, availableBytes: 25 };
    clock.advance(10);
    assert.deepEqual(calls.changes, [
      ['normal', 'critical'],
      ['critical', 'moderate'],
    ]);
    assert.equal(calls.errors.length, 1);
    assert.equal(calls.errors[0], errors[0]);
    monitor.stopMonitoring();
  });

  test('a telemetry that throws does not break sampling or publishing', () => {
    const clock = new ManualClock();
    const throwing: MemoryTelemetry = {
      recordCacheSize() {},
      recordEviction() {},
      recordPressureChange() {
        throw new Error('exporter down');
      },
      recordError() {
        throw new Error('exporter down');
      },
    };
    let fail = false;
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => {
        if (fail) throw new Error('x');
        return { usedBytes: 99, availableBytes: 1 };
      },
      pollingIntervalMs: 10,
      clock,
      telemetry: throwing,
    });
    const levels = record(monitor.pressure);
    const errors = record(monitor.errors);
    monitor.startMonitoring();
    fail = true;
    clock.advance(10);
    assert.deepEqual(levels, ['normal', 'emergency']);
    assert.equal(errors.length, 1);
    assert.equal(clock.pendingTimers, 1);
    monitor.stopMonitoring();
  });
});
