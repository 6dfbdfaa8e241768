import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CacheCleaner,
  DEFAULT_CLEANUP_POLICY,
  ManualClock,
  MemoryManager,
  MemoryThresholds,
  PollingMemoryMonitor,
  ResourceCleanupCoordinator,
  Subject,
  type CleanupContext,
  type CleanupResult,
  type EvictionEvent,
  type MemoryPressureLevel,
  type MemoryTelemetry,
  type ResourceCleaner,
} from '../../src/index.js';
import { deferred, PressureSpy, settle, spyCleaner } from './helpers.js';

function telemetrySpy(): MemoryTelemetry & { cleanups: CleanupResult[][]; errors: Error[] } {
  const spy = {
    cleanups: [] as CleanupResult[][],
    errors: [] as Error[],
    recordCacheSize() {},
    recordEviction() {},
    recordPressureChange() {},
    recordCleanup(results: CleanupResult[]) {
      spy.cleanups.push(results);
    },
    recordError(error: Error) {
      spy.errors.push(error);
    },
  };
  return spy;
}

describe('seed 000', () => {
  test('test_cleanupAll_cleansAllRegisteredCleaners: cleanupAll calls every registered cleaner once', async () => {
    const cleaner1 = spyCleaner('cleaner1', 'low');
    const cleaner2 = spyCleaner('cleaner2', 'high');
    const sut = new ResourceCleanupCoordinator({ memoryMonitor: new PressureSpy(), clock: new ManualClock() });
    sut.register(cleaner1);
    sut.register(cleaner2);

    const results = await sut.cleanupAll();

    assert.equal(cleaner1.calls, 1);
    assert.equal(cleaner2.calls, 1);
    assert.deepEqual(
      results.map((r) => r.cleanerName),
      ['cleaner1', 'cleaner2'],
    );
  });
});

describe('ordering and scope', () => {
  test('runs the lowest priority first and equal priorities in registration order', async () => {
    const log: string[] = [];
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    for (const [name, priority] of [
      ['h1', 'high'],
      ['l1', 'low'],
      ['m1', 'medium'],
      ['l2', 'low'],
      ['h2', 'high'],
      ['m2', 'medium'],
    ] as const) {
      coordinator.register(spyCleaner(name, priority, { log }));
    }
    const results = await coordinator.cleanupAll();
    assert.deepEqual(log, ['l1', 'l2', 'm1', 'm2', 'h1', 'h2']);
    assert.deepEqual(
      results.map((r) => r.cleanerName),
      log,
    );
    assert.deepEqual(
      coordinator.cleaners.map((c) => c.name),
      log,
    );
  });

  test('cleanupUpTo(p) runs only the cleaners with priority <= p', async () => {
    const log: string[] = [];
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(spyCleaner('high', 'high', { log }));
    coordinator.register(spyCleaner('medium', 'medium', { log }));
    coordinator.register(spyCleaner('low', 'low', { log }));

    assert.deepEqual(
      (await coordinator.cleanupUpTo('low')).map((r) => r.cleanerName),
      ['low'],
    );
    assert.deepEqual(
      (await coordinator.cleanupUpTo('medium')).map((r) => r.cleanerName),
      ['low', 'medium'],
    );
    assert.deepEqual(
      (await coordinator.cleanupUpTo('high')).map((r) => r.cleanerName),
      ['low', 'medium', 'high'],
    );
  });

  test('cleanupUpTo rejects an unknown priority with a RangeError naming it', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    await assert.rejects(coordinator.cleanupUpTo('urgent' as never), { name: 'RangeError', message: /priority.*"urgent"/ });
  });

  test('cleaners run one at a time: the next starts only after the previous settles', async () => {
    const gate = deferred<CleanupResult>();
    let active = 0;
    let maxActive = 0;
    const track = (result: Promise<CleanupResult> | CleanupResult) => async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        return await result;
      } finally {
        active--;
      }
    };
    const first = spyCleaner('first', 'low', { behaviour: track(gate.promise) });
    const second = spyCleaner('second', 'low', { behaviour: track({ cleanerName: 'second', bytesFreed: 1, success: true, durationMs: 0 }) });
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(first);
    coordinator.register(second);
    const run = coordinator.cleanupAll();
    await settle();
    assert.equal(first.calls, 1);
    assert.equal(second.calls, 0, 'the second cleaner must wait for the first');
    gate.resolve({ cleanerName: 'first', bytesFreed: 5, success: true, durationMs: 0 });
    const results = await run;
    assert.equal(second.calls, 1);
    assert.equal(maxActive, 1);
    assert.deepEqual(
      results.map((r) => r.bytesFreed),
      [5, 1],
    );
  });

  test('a run with no cleaners resolves with an empty array and is still published', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const published: CleanupResult[][] = [];
    coordinator.results.subscribe((r) => published.push(r));
    assert.deepEqual(await coordinator.cleanupAll(), []);
    assert.deepEqual(published, [[]]);
  });
});

describe('register and unregister', () => {
  test('unregister removes the cleaner from later runs and is idempotent', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const a = spyCleaner('a', 'low');
    const b = spyCleaner('b', 'low');
    const unregisterA = coordinator.register(a);
    coordinator.register(b);
    unregisterA();
    unregisterA();
    await coordinator.cleanupAll();
    assert.equal(a.calls, 0);
    assert.equal(b.calls, 1);
    assert.deepEqual(
      coordinator.cleaners.map((c) => c.name),
      ['b'],
    );
  });

  test('an old unregister function does not remove a later registration of the same cleaner', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const a = spyCleaner('a', 'medium');
    const first = coordinator.register(a);
    first();
    coordinator.register(a);
    first();
    await coordinator.cleanupAll();
    assert.equal(a.calls, 1);
  });

  test('a cleaner unregistered while a run waits to reach it is skipped', async () => {
    const gate = deferred<CleanupResult>();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(spyCleaner('slow', 'low', { behaviour: () => gate.promise }));
    const later = spyCleaner('later', 'high');
    const unregisterLater = coordinator.register(later);
    const run = coordinator.cleanupAll();
    await settle();
    unregisterLater();
    gate.resolve({ cleanerName: 'slow', bytesFreed: 0, success: true, durationMs: 0 });
    const results = await run;
    assert.equal(later.calls, 0);
    assert.deepEqual(
      results.map((r) => r.cleanerName),
      ['slow'],
    );
  });

  test('registering the same cleaner object twice is an error', () => {
    const coordinator = new ResourceCleanupCoordinator();
    const a = spyCleaner('a', 'low');
    coordinator.register(a);
    assert.throws(() => coordinator.register(a), /"a" is already registered/);
  });

  test('register rejects a malformed cleaner with an error naming the field and value', () => {
    const coordinator = new ResourceCleanupCoordinator();
    const cleanup = () => ({ cleanerName: 'x', bytesFreed: 0, success: true, durationMs: 0 });
    const cases: Array<[unknown, RegExp, string]> = [
      [null, /cleaner must be an object.*null/, 'TypeError'],
      ['cleaner', /cleaner must be an object.*"cleaner"/, 'TypeError'],
      [{ name: '', priority: 'low', cleanup }, /cleaner\.name must be a non-empty string, got ""/, 'TypeError'],
      [{ name: 42, priority: 'low', cleanup }, /cleaner\.name.*got 42/, 'TypeError'],
      [{ name: 'x', priority: 'urgent', cleanup }, /cleaner\.priority of "x".*got "urgent"/, 'RangeError'],
      [{ name: 'x', priority: undefined, cleanup }, /cleaner\.priority of "x".*got undefined/, 'RangeError'],
      [{ name: 'x', priority: 'low' }, /cleaner\.cleanup of "x" must be a function, got undefined/, 'TypeError'],
      [{ name: 'x', priority: 'low', cleanup: 'now' }, /cleaner\.cleanup.*"now"/, 'TypeError'],
    ];
    for (const [cleaner, message, name] of cases) {
      assert.throws(() => coordinator.register(cleaner as ResourceCleaner), { name, message }, `for ${JSON.stringify(cleaner)}`);
    }
    assert.equal(coordinator.cleaners.length, 0);
  });

  test('name and priority are read once, at registration', async () => {
    const log: string[] = [];
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const shifty = { ...spyCleaner('shifty', 'high', { log }), priority: 'high' as 'high' | 'low' };
    coordinator.register(shifty);
    coordinator.register(spyCleaner('low', 'low', { log }));
    shifty.priority = 'low';
    await coordinator.cleanupAll();
    assert.deepEqual(log, ['low', 'shifty']);
  });
});

describe('options', () => {
  test('rejects invalid options with an error naming the field and the value', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      ['fast', 'TypeError', /options must be an object, got "fast"/],
      [{ cleanerTimeoutMs: 0 }, 'RangeError', /cleanerTimeoutMs must be a positive finite number.*got 0/],
      [{ cleanerTimeoutMs: -5 }, 'RangeError', /cleanerTimeoutMs.*got -5/],
      [{ cleanerTimeoutMs: Number.NaN }, 'RangeError', /cleanerTimeoutMs.*got NaN/],
      [{ cleanerTimeoutMs: Number.POSITIVE_INFINITY }, 'RangeError', /cleanerTimeoutMs.*got Infinity/],
      [{ cleanerTimeoutMs: '5000' }, 'RangeError', /cleanerTimeoutMs.*got "5000"/],
      [{ policy: 'aggressive' }, 'TypeError', /policy must be an object.*"aggressive"/],
      [{ policy: { warning: 'low' } }, 'RangeError', /policy keys must be one of normal, moderate, critical, emergency, got "warning"/],
      [{ policy: { moderate: 'urgent' } }, 'RangeError', /policy\.moderate must be one of low, medium, high or null, got "urgent"/],
      [{ policy: { critical: 2 } }, 'RangeError', /policy\.critical.*got 2/],
      [{ memoryMonitor: {} }, 'TypeError', /memoryMonitor must be a MemoryPressureHandler/],
      [{ memoryMonitor: { pressure: 1 } }, 'TypeError', /memoryMonitor/],
      [{ clock: { now: () => 0 } }, 'TypeError', /clock\.setTimeout must be a function/],
      [{ telemetry: 'otel' }, 'TypeError', /telemetry must be a MemoryTelemetry object, got "otel"/],
    ];
    for (const [options, name, message] of cases) {
      assert.throws(
        () => new ResourceCleanupCoordinator(options as never),
        { name, message },
        `for ${String(JSON.stringify(options))}`,
      );
    }
  });

  test('uses the seed policy by default and merges a partial policy over it', () => {
    assert.deepEqual({ ...new ResourceCleanupCoordinator().policy }, { normal: null, moderate: 'medium', critical: 'high', emergency: 'high' });
    assert.deepEqual({ ...DEFAULT_CLEANUP_POLICY }, { normal: null, moderate: 'medium', critical: 'high', emergency: 'high' });
    const custom = new ResourceCleanupCoordinator({ policy: { moderate: 'low', emergency: null } });
    assert.deepEqual({ ...custom.policy }, { normal: null, moderate: 'low', critical: 'high', emergency: null });
    assert.equal(new ResourceCleanupCoordinator().cleanerTimeoutMs, 5000);
  });
});

describe('failures and timeouts', () => {
  test('a cleaner that outlives the default 5000 ms is aborted, reported as timed out, and the run goes on', async () => {
    const clock = new ManualClock();
    const coordinator = new ResourceCleanupCoordinator({ clock });
    const hung = spyCleaner('hung', 'low', { behaviour: () => new Promise(() => {}) });
    const next = spyCleaner('next', 'medium', { bytes: 7 });
    coordinator.register(hung);
    coordinator.register(next);
    let done = false;
    const run = coordinator.cleanupAll().then((r) => {
      done = true;
      return r;
    });
    await clock.advanceAsync(4999);
    assert.equal(done, false);
    assert.equal(hung.signals[0]?.aborted, false);
    assert.equal(next.calls, 0);
    await clock.advanceAsync(1);
    const results = await run;
    assert.equal(hung.signals[0]?.aborted, true);
    assert.equal((hung.signals[0]?.reason as Error).name, 'TimeoutError');
    assert.equal(next.calls, 1);
    assert.deepEqual(results, [
      { cleanerName: 'hung', bytesFreed: 0, success: false, error: 'timed out after 5000 ms', durationMs: 5000 },
      { cleanerName: 'next', bytesFreed: 7, success: true, durationMs: 0 },
    ]);
  });

  test('each cleaner gets its own signal; only the one that timed out is aborted', async () => {
    const clock = new ManualClock();
    const coordinator = new ResourceCleanupCoordinator({ clock, cleanerTimeoutMs: 50 });
    const quick = spyCleaner('quick', 'low', {
      behaviour: () => new Promise((resolve) => clock.setTimeout(() => resolve({ cleanerName: 'quick', bytesFreed: 1, success: true, durationMs: 0 }), 20)),
    });
    const slow = spyCleaner('slow', 'low', {
      behaviour: () => new Promise((resolve) => clock.setTimeout(() => resolve({ cleanerName: 'slow', bytesFreed: 1, success: true, durationMs: 0 }), 80)),
    });
    coordinator.register(quick);
    coordinator.register(slow);
    const run = coordinator.cleanupAll();
    await clock.advanceAsync(200);
    const results = await run;
    assert.notEqual(quick.signals[0], slow.signals[0]);
    assert.equal(quick.signals[0]?.aborted, false);
    assert.equal(slow.signals[0]?.aborted, true);
    assert.deepEqual(
      results.map((r) => [r.success, r.durationMs, r.error]),
      [
        [true, 20, undefined],
        [false, 50, 'timed out after 50 ms'],
      ],
    );
  });

  test('a finished cleaner leaves no timer behind, and a late answer of a timed-out one changes nothing', async () => {
    const clock = new ManualClock();
    const late = deferred<CleanupResult>();
    const coordinator = new ResourceCleanupCoordinator({ clock, cleanerTimeoutMs: 10 });
    coordinator.register(spyCleaner('late', 'low', { behaviour: () => late.promise }));
    coordinator.register(spyCleaner('fine', 'low'));
    const run = coordinator.cleanupAll();
    await clock.advanceAsync(10);
    const results = await run;
    assert.equal(clock.pendingTimers, 0);
    late.reject(new Error('too late'));
    await settle();
    assert.equal(results[0]?.error, 'timed out after 10 ms');
    assert.equal(results.length, 2);
  });

  test('a cleaner that throws synchronously, rejects, or throws a non-Error gives success:false with the reason', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(
      spyCleaner('throws', 'low', {
        behaviour: () => {
          throw new TypeError('disk gone');
        },
      }),
    );
    coordinator.register(spyCleaner('rejects', 'low', { behaviour: () => Promise.reject(new Error('pool closed')) }));
    coordinator.register(
      spyCleaner('throws-string', 'low', {
        behaviour: () => {
          throw 'nope';
        },
      }),
    );
    coordinator.register(spyCleaner('bad-thenable', 'low', { behaviour: () => ({ then: () => { throw new Error('then broke'); } }) }));
    coordinator.register(spyCleaner('after', 'high', { bytes: 3 }));
    const results = await coordinator.cleanupAll();
    assert.deepEqual(
      results.map((r) => [r.cleanerName, r.success, r.bytesFreed, r.error]),
      [
        ['throws', false, 0, 'threw: TypeError: disk gone'],
        ['rejects', false, 0, 'rejected: pool closed'],
        ['throws-string', false, 0, 'threw: "nope"'],
        ['bad-thenable', false, 0, 'rejected: then broke'],
        ['after', true, 3, undefined],
      ],
    );
  });

  test('a garbage result is refused as a whole with an error naming the bad field', async () => {
    const garbage: Array<[unknown, RegExp]> = [
      [undefined, /expected an object.*got undefined/],
      [null, /expected an object.*got null/],
      [42, /expected an object.*got 42/],
      ['done', /expected an object.*got "done"/],
      [[1, 2], /expected an object.*got \[1, 2\]/],
      [[{ bytesFreed: 1, success: true }], /expected an object.*got an array of 1 item$/],
      [{ success: true }, /bytesFreed must be a non-negative finite number, got undefined/],
      [{ bytesFreed: -1, success: true }, /bytesFreed.*got -1/],
      [{ bytesFreed: Number.NaN, success: true }, /bytesFreed.*got NaN/],
      [{ bytesFreed: Number.POSITIVE_INFINITY, success: true }, /bytesFreed.*got Infinity/],
      [{ bytesFreed: '10', success: true }, /bytesFreed.*got "10"/],
      [{ bytesFreed: 10 }, /success must be a boolean, got undefined/],
      [{ bytesFreed: 10, success: 'yes' }, /success must be a boolean, got "yes"/],
      [{ bytesFreed: 10, success: true, cleanerName: 7 }, /cleanerName must be a string, got 7/],
      [{ bytesFreed: 10, success: true, error: { code: 1 } }, /error must be a string, got an object/],
      [
        Object.defineProperty({ success: true }, 'bytesFreed', {
          get() {
            throw new Error('getter exploded');
          },
        }),
        /reading it threw: getter exploded/,
      ],
    ];
    for (const [value, message] of garbage) {
      const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
      coordinator.register(spyCleaner('sync', 'low', { behaviour: () => value }));
      coordinator.register(spyCleaner('async', 'low', { behaviour: async () => value }));
      const results = await coordinator.cleanupAll();
      for (const result of results) {
        assert.equal(result.success, false, `success for ${String(JSON.stringify(value))}`);
        assert.equal(result.bytesFreed, 0);
        assert.match(result.error ?? '', /^returned an invalid result: /);
        assert.match(result.error ?? '', message);
      }
    }
  });

  test('a valid result keeps its bytes and note; name and duration are the coordinator\'s', async () => {
    const clock = new ManualClock();
    const coordinator = new ResourceCleanupCoordinator({ clock });
    coordinator.register(
      spyCleaner('real-name', 'low', {
        behaviour: () =>
          new Promise((resolve) =>
            clock.setTimeout(() => resolve({ cleanerName: 'other', bytesFreed: 1024, success: true, error: 'partial', durationMs: 999 }), 30),
          ),
      }),
    );
    coordinator.register(spyCleaner('quiet-failure', 'low', { behaviour: () => ({ bytesFreed: 12, success: false }) }));
    const run = coordinator.cleanupAll();
    await clock.advanceAsync(30);
    assert.deepEqual(await run, [
      { cleanerName: 'real-name', bytesFreed: 1024, success: true, error: 'partial', durationMs: 30 },
      { cleanerName: 'quiet-failure', bytesFreed: 12, success: false, error: 'reported failure without a reason', durationMs: 0 },
    ]);
  });
});

describe('no overlapping runs', () => {
  test('requests during a run coalesce into one follow-up with the widest scope, and share its results', async () => {
    const gate = deferred<CleanupResult>();
    let active = 0;
    let maxActive = 0;
    const log: string[] = [];
    const tracked = (name: string) => async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(name);
      if (name === 'low' && log.length === 1) await gate.promise;
      active--;
      return { cleanerName: name, bytesFreed: 1, success: true, durationMs: 0 };
    };
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(spyCleaner('low', 'low', { behaviour: tracked('low') }));
    coordinator.register(spyCleaner('medium', 'medium', { behaviour: tracked('medium') }));
    coordinator.register(spyCleaner('high', 'high', { behaviour: tracked('high') }));
    const published: string[][] = [];
    coordinator.results.subscribe((results) => published.push(results.map((r) => r.cleanerName)));

    const first = coordinator.cleanupUpTo('low');
    await settle();
    assert.equal(coordinator.isRunning, true);
    const a = coordinator.cleanupUpTo('low');
    const b = coordinator.cleanupAll();
    const c = coordinator.cleanupUpTo('medium');
    assert.equal(a, b);
    assert.equal(b, c);
    gate.resolve({ cleanerName: 'low', bytesFreed: 1, success: true, durationMs: 0 });

    assert.deepEqual(
      (await first).map((r) => r.cleanerName),
      ['low'],
    );
    const followUp = await a;
    assert.deepEqual(
      followUp.map((r) => r.cleanerName),
      ['low', 'medium', 'high'],
    );
    assert.equal(await b, followUp);
    assert.deepEqual(log, ['low', 'low', 'medium', 'high']);
    assert.equal(maxActive, 1);
    assert.deepEqual(published, [['low'], ['low', 'medium', 'high']]);
    assert.equal(coordinator.isRunning, false);
  });

  test('a follow-up keeps the narrow scope when only narrow requests were made', async () => {
    const gate = deferred<CleanupResult>();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const low = spyCleaner('low', 'low', { behaviour: () => (low.calls === 1 ? gate.promise : { bytesFreed: 0, success: true }) });
    const high = spyCleaner('high', 'high');
    coordinator.register(low);
    coordinator.register(high);
    const first = coordinator.cleanupAll();
    await settle();
    const second = coordinator.cleanupUpTo('low');
    gate.resolve({ cleanerName: 'low', bytesFreed: 0, success: true, durationMs: 0 });
    await first;
    assert.deepEqual(
      (await second).map((r) => r.cleanerName),
      ['low'],
    );
    assert.equal(low.calls, 2);
    assert.equal(high.calls, 1);
  });

  test('a cleaner that requests a cleanup from inside its run gets a follow-up, not an overlap', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const log: string[] = [];
    let nested: Promise<CleanupResult[]> | undefined;
    const reentrant = spyCleaner('reentrant', 'low', {
      log,
      behaviour: () => {
        if (nested === undefined) nested = coordinator.cleanupAll();
        return { bytesFreed: 1, success: true };
      },
    });
    coordinator.register(reentrant);
    coordinator.register(spyCleaner('other', 'medium', { log }));
    const first = coordinator.cleanupAll();
    assert.ok(nested);
    assert.notEqual(nested, first);
    assert.equal((await first).length, 2);
    assert.equal((await nested).length, 2);
    assert.deepEqual(log, ['reentrant', 'other', 'reentrant', 'other']);
  });
});

describe('results stream and telemetry', () => {
  test('results emits each run\'s results after the run, without replaying old runs', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const cleaner = spyCleaner('a', 'low', { bytes: 4 });
    coordinator.register(cleaner);
    const seen: Array<{ results: CleanupResult[]; callsAtEmission: number }> = [];
    coordinator.results.subscribe((results) => seen.push({ results, callsAtEmission: cleaner.calls }));
    const returned = await coordinator.cleanupAll();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.results, returned);
    assert.equal(seen[0]?.callsAtEmission, 1);

    const late: CleanupResult[][] = [];
    coordinator.results.subscribe((r) => late.push(r));
    assert.equal(late.length, 0);
    await coordinator.cleanupUpTo('low');
    assert.equal(late.length, 1);
    assert.equal(seen.length, 2);
  });

  test('telemetry.recordCleanup receives every run; a throwing telemetry does not break the run', async () => {
    const telemetry = telemetrySpy();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock(), telemetry });
    coordinator.register(spyCleaner('a', 'low', { bytes: 9 }));
    const results = await coordinator.cleanupAll();
    assert.deepEqual(telemetry.cleanups, [results]);

    const broken = new ResourceCleanupCoordinator({
      clock: new ManualClock(),
      telemetry: {
        ...telemetry,
        recordCleanup() {
          throw new Error('exporter down');
        },
      },
    });
    broken.register(spyCleaner('a', 'low', { bytes: 9 }));
    assert.equal((await broken.cleanupAll())[0]?.bytesFreed, 9);
    assert.equal(broken.isRunning, false);
    assert.equal((await broken.cleanupAll()).length, 1);
  });
});

describe('auto cleanup', () => {
  function setup(policy?: ConstructorParameters<typeof ResourceCleanupCoordinator>[0] extends infer O ? (O extends { policy?: infer P } ? P : never) : never) {
    const handler = new PressureSpy();
    const log: string[] = [];
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: handler, clock: new ManualClock(), ...(policy === undefined ? {} : { policy }) });
    coordinator.register(spyCleaner('low', 'low', { log }));
    coordinator.register(spyCleaner('medium', 'medium', { log }));
    coordinator.register(spyCleaner('high', 'high', { log }));
    const runs: string[][] = [];
    coordinator.results.subscribe((results) => runs.push(results.map((r) => r.cleanerName)));
    return { handler, coordinator, log, runs };
  }

  async function go(handler: PressureSpy, level: MemoryPressureLevel): Promise<void> {
    handler.set(level);
    await settle();
  }

  test('the default policy: normal nothing, moderate up to medium, critical and emergency everything', async () => {
    const { handler, coordinator, runs } = setup();
    coordinator.enableAutoCleanup();
    await settle();
    assert.deepEqual(runs, [], 'normal cleans nothing');
    await go(handler, 'moderate');
    await go(handler, 'critical');
    await go(handler, 'emergency');
    await go(handler, 'normal');
    assert.deepEqual(runs, [
      ['low', 'medium'],
      ['low', 'medium', 'high'],
      ['low', 'medium', 'high'],
    ]);
  });

  test('acts only when the level changes, not when the same level is published again', async () => {
    const { handler, coordinator, runs } = setup();
    coordinator.enableAutoCleanup();
    await go(handler, 'moderate');
    await go(handler, 'moderate');
    await go(handler, 'moderate');
    assert.equal(runs.length, 1);
    await go(handler, 'critical');
    await go(handler, 'critical');
    assert.equal(runs.length, 2);
  });

  test('enabled while the level is already raised, it acts on that level at once', async () => {
    const { handler, coordinator, runs } = setup();
    handler.set('critical');
    coordinator.enableAutoCleanup();
    await settle();
    assert.deepEqual(runs, [['low', 'medium', 'high']]);
  });

  test('a handler whose stream does not replay is read through currentPressure() on enable', async () => {
    const subject = new Subject<MemoryPressureLevel>();
    const handler = { pressure: subject, currentPressure: (): MemoryPressureLevel => 'moderate' };
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: handler, clock: new ManualClock() });
    const low = spyCleaner('low', 'low');
    coordinator.register(low);
    coordinator.enableAutoCleanup();
    await settle();
    assert.equal(low.calls, 1);
    subject.next('moderate');
    await settle();
    assert.equal(low.calls, 1, 'moderate was already seen');
  });

  test('the returned function disables it; disabling twice is harmless', async () => {
    const { handler, coordinator, runs } = setup();
    const disable = coordinator.enableAutoCleanup();
    assert.equal(coordinator.isAutoCleanupEnabled, true);
    disable();
    disable();
    assert.equal(coordinator.isAutoCleanupEnabled, false);
    assert.equal(handler.subscriberCount, 0);
    await go(handler, 'critical');
    assert.deepEqual(runs, []);
  });

  test('enabling twice keeps one subscription and one run per change', async () => {
    const { handler, coordinator, runs } = setup();
    const disable1 = coordinator.enableAutoCleanup();
    const disable2 = coordinator.enableAutoCleanup();
    assert.equal(handler.subscriberCount, 1);
    await go(handler, 'moderate');
    assert.equal(runs.length, 1);
    disable2();
    assert.equal(handler.subscriberCount, 0);
    disable1();
    await go(handler, 'critical');
    assert.equal(runs.length, 1);
    coordinator.enableAutoCleanup();
    await settle();
    assert.equal(runs.length, 2, 're-enabled at critical acts at once');
  });

  test('without a memoryMonitor, enableAutoCleanup throws a TypeError naming the option', () => {
    const coordinator = new ResourceCleanupCoordinator();
    assert.throws(() => coordinator.enableAutoCleanup(), { name: 'TypeError', message: /memoryMonitor/ });
  });

  test('a configurable policy decides the scope per level', async () => {
    const { handler, coordinator, runs } = setup({ moderate: 'low', critical: null, normal: 'low' });
    coordinator.enableAutoCleanup();
    await settle();
    assert.deepEqual(runs, [['low']], 'normal now cleans low');
    await go(handler, 'moderate');
    await go(handler, 'critical');
    await go(handler, 'emergency');
    assert.deepEqual(runs, [['low'], ['low'], ['low', 'medium', 'high']]);
  });

  test('a level change during a run is coalesced into one follow-up', async () => {
    const handler = new PressureSpy();
    const gate = deferred<CleanupResult>();
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: handler, clock: new ManualClock() });
    const low = spyCleaner('low', 'low', { behaviour: () => (low.calls === 1 ? gate.promise : { bytesFreed: 0, success: true }) });
    const high = spyCleaner('high', 'high');
    coordinator.register(low);
    coordinator.register(high);
    const runs: string[][] = [];
    coordinator.results.subscribe((results) => runs.push(results.map((r) => r.cleanerName)));
    coordinator.enableAutoCleanup();
    handler.set('moderate');
    await settle();
    handler.set('critical');
    handler.set('emergency');
    gate.resolve({ cleanerName: 'low', bytesFreed: 0, success: true, durationMs: 0 });
    await settle();
    await settle();
    assert.deepEqual(runs, [['low'], ['low', 'high']]);
  });

  test('a handler that publishes something that is not a level is ignored and reported', async () => {
    const subject = new Subject<MemoryPressureLevel>();
    const telemetry = telemetrySpy();
    const coordinator = new ResourceCleanupCoordinator({
      memoryMonitor: { pressure: subject, currentPressure: () => 'normal' },
      clock: new ManualClock(),
      telemetry,
    });
    const low = spyCleaner('low', 'low');
    coordinator.register(low);
    coordinator.enableAutoCleanup();
    subject.next('warning' as MemoryPressureLevel);
    await settle();
    assert.equal(low.calls, 0);
    assert.match(telemetry.errors[0]?.message ?? '', /emitted "warning"/);
  });

  test('with a real PollingMemoryMonitor: one run per level change, none per sample', async () => {
    const clock = new ManualClock();
    let used = 50;
    const monitor = new PollingMemoryMonitor({
      memoryProvider: () => ({ usedBytes: used, availableBytes: 100 - used }),
      thresholds: MemoryThresholds.default,
      pollingIntervalMs: 100,
      clock,
    });
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: monitor, clock });
    const low = spyCleaner('low', 'low');
    const high = spyCleaner('high', 'high');
    coordinator.register(low);
    coordinator.register(high);
    coordinator.enableAutoCleanup();
    monitor.startMonitoring();
    await clock.advanceAsync(300);
    assert.equal(low.calls, 0);
    used = 90;
    await clock.advanceAsync(100);
    assert.deepEqual([low.calls, high.calls], [1, 1]);
    await clock.advanceAsync(1000);
    assert.deepEqual([low.calls, high.calls], [1, 1], 'ten more samples at critical clean nothing more');
    used = 75;
    await clock.advanceAsync(100);
    assert.deepEqual([low.calls, high.calls], [2, 1], 'down to moderate cleans up to medium');
    monitor.stopMonitoring();
  });
});

describe('the level reaches the cleaners', () => {
  test('a run asked for by hand tells every cleaner emergency; a level passed to cleanupAll or cleanupUpTo is told instead', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const low = spyCleaner('low', 'low');
    const high = spyCleaner('high', 'high');
    coordinator.register(low);
    coordinator.register(high);
    await coordinator.cleanupAll();
    await coordinator.cleanupUpTo('low');
    await coordinator.cleanupAll({ level: 'moderate' });
    await coordinator.cleanupUpTo('high', { level: 'critical' });
    await coordinator.cleanupAll({});
    assert.deepEqual(low.levels, ['emergency', 'emergency', 'moderate', 'critical', 'emergency']);
    assert.deepEqual(high.levels, ['emergency', 'moderate', 'critical', 'emergency']);
  });

  test('auto cleanup tells each cleaner the level that triggered the run', async () => {
    const handler = new PressureSpy();
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: handler, clock: new ManualClock() });
    const low = spyCleaner('low', 'low');
    const high = spyCleaner('high', 'high');
    coordinator.register(low);
    coordinator.register(high);
    coordinator.enableAutoCleanup();
    for (const level of ['moderate', 'critical', 'normal', 'emergency'] as const) {
      handler.set(level);
      await settle();
    }
    assert.deepEqual(low.levels, ['moderate', 'critical', 'emergency']);
    assert.deepEqual(high.levels, ['critical', 'emergency']);
  });

  test('the context is one frozen object per run: a cleaner cannot change what the next one is told', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const seen: CleanupContext[] = [];
    const tamperer: ResourceCleaner = {
      name: 'tamperer',
      priority: 'low',
      cleanup(_signal, context) {
        seen.push(context);
        assert.throws(() => {
          (context as { level: MemoryPressureLevel }).level = 'normal';
        }, TypeError);
        return { cleanerName: 'tamperer', bytesFreed: 0, success: true, durationMs: 0 };
      },
    };
    const next = spyCleaner('next', 'medium');
    coordinator.register(tamperer);
    coordinator.register(next);
    const [first] = await coordinator.cleanupAll({ level: 'critical' });
    assert.equal(first?.success, true, first?.error);
    assert.deepEqual(next.levels, ['critical']);
    assert.ok(Object.isFrozen(seen[0]));
  });

  test('a cleaner written for one argument keeps working', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    let calls = 0;
    const legacy: ResourceCleaner = {
      name: 'legacy',
      priority: 'medium',
      cleanup(signal: AbortSignal) {
        calls++;
        return { cleanerName: 'legacy', bytesFreed: signal.aborted ? 0 : 64, success: true, durationMs: 0 };
      },
    };
    coordinator.register(legacy);
    assert.deepEqual(await coordinator.cleanupAll(), [{ cleanerName: 'legacy', bytesFreed: 64, success: true, durationMs: 0 }]);
    assert.deepEqual(await coordinator.cleanupUpTo('medium', { level: 'moderate' }), [{ cleanerName: 'legacy', bytesFreed: 64, success: true, durationMs: 0 }]);
    assert.equal(calls, 2);
  });

  test('a follow-up run is told the highest level requested while the run was busy, not the latest', async () => {
    const gate = deferred<CleanupResult>();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const low = spyCleaner('low', 'low', { behaviour: () => (low.calls === 1 ? gate.promise : { bytesFreed: 0, success: true }) });
    coordinator.register(low);
    const first = coordinator.cleanupAll({ level: 'moderate' });
    await settle();
    const a = coordinator.cleanupUpTo('low', { level: 'critical' });
    const b = coordinator.cleanupAll({ level: 'moderate' });
    const c = coordinator.cleanupAll({ level: 'normal' });
    assert.equal(a, b);
    assert.equal(b, c);
    gate.resolve({ cleanerName: 'low', bytesFreed: 0, success: true, durationMs: 0 });
    await first;
    await a;
    assert.deepEqual(low.levels, ['moderate', 'critical']);
  });

  test('bad run options are refused with an error naming the field and the value, and run nothing', async () => {
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    const low = spyCleaner('low', 'low');
    coordinator.register(low);
    await assert.rejects(coordinator.cleanupAll({ level: 'high' as MemoryPressureLevel }), {
      name: 'RangeError',
      message: 'options.level must be one of normal, moderate, critical, emergency, got "high"',
    });
    await assert.rejects(coordinator.cleanupUpTo('low', { level: 3 as unknown as MemoryPressureLevel }), { name: 'RangeError', message: /^options\.level must be one of .*, got 3$/ });
    await assert.rejects(coordinator.cleanupAll('emergency' as never), { name: 'TypeError', message: /^options must be an object such as \{ level: 'moderate' \}, got "emergency"$/ });
    await assert.rejects(coordinator.cleanupUpTo('low', null as never), { name: 'TypeError', message: /^options must be an object .*got null$/ });
    assert.equal(low.calls, 0);
  });
});

describe('CacheCleaner over a real MemoryManager under the coordinator', () => {
  /** 30 unpinned entries and 1 pinned one, 100 bytes each, default batch (10), no byte budget. */
  function filledCache(): MemoryManager<string, string> {
    const cache = new MemoryManager<string, string>({ sizeEstimator: () => 100 });
    for (let i = 0; i < 30; i++) cache.set(`k${i}`, 'v');
    cache.set('pinned', 'v', { pin: true });
    return cache;
  }

  test('auto cleanup at moderate sheds one batch rather than emptying the cache; critical then sheds half; emergency the rest but the pin', async () => {
    const handler = new PressureSpy();
    const cache = filledCache();
    const evictions: EvictionEvent[] = [];
    cache.evictions.subscribe((event) => evictions.push(event));
    const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: handler, clock: new ManualClock() });
    coordinator.register(new CacheCleaner({ name: 'images', priority: 'low', cache, clock: new ManualClock() }));
    const runs: CleanupResult[][] = [];
    coordinator.results.subscribe((results) => runs.push(results));
    coordinator.enableAutoCleanup();

    handler.set('moderate');
    await settle();
    assert.deepEqual(runs.at(-1), [{ cleanerName: 'images', bytesFreed: 1_000, success: true, durationMs: 0 }]);
    assert.equal(cache.size, 21, 'one batch of 10 went; 20 unpinned entries and the pin stay');
    assert.deepEqual(
      evictions.map((e) => [e.key, e.reason, e.level]),
      Array.from({ length: 10 }, (_, i) => [`k${i}`, 'pressure', 'moderate']),
      'the least recently used batch, evicted for moderate pressure',
    );

    handler.set('critical');
    await settle();
    assert.equal(runs.at(-1)?.[0]?.bytesFreed, 1_000, 'half of the 2000 unpinned bytes');
    assert.equal(cache.size, 11);

    handler.set('emergency');
    await settle();
    assert.equal(runs.at(-1)?.[0]?.bytesFreed, 1_000);
    assert.deepEqual([...cache.pinnedKeys], ['pinned']);
    assert.equal(cache.size, 1);
    assert.equal(cache.metrics.currentUsage, 100);
    assert.equal(runs.length, 3);
  });

  test('a run asked for by hand defaults to emergency: every unpinned entry goes, the pin stays', async () => {
    const cache = filledCache();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(new CacheCleaner({ name: 'images', priority: 'low', cache, clock: new ManualClock() }));
    assert.deepEqual(await coordinator.cleanupAll(), [{ cleanerName: 'images', bytesFreed: 3_000, success: true, durationMs: 0 }]);
    assert.equal(cache.size, 1);
    assert.equal(cache.has('pinned'), true);
  });

  test('a run asked for by hand at normal sheds nothing from a trimming cache', async () => {
    const cache = filledCache();
    const coordinator = new ResourceCleanupCoordinator({ clock: new ManualClock() });
    coordinator.register(new CacheCleaner({ name: 'images', priority: 'low', cache, clock: new ManualClock() }));
    assert.deepEqual(await coordinator.cleanupAll({ level: 'normal' }), [{ cleanerName: 'images', bytesFreed: 0, success: true, durationMs: 0 }]);
    assert.equal(cache.size, 31);
    assert.equal(cache.metrics.evictionCount, 0);
  });
});
