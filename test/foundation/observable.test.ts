import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstValueFrom, from, map, take, toArray, Observable as RxObservable } from 'rxjs';
import { MemoryManager, Subject, ValueSubject, type EvictionEvent, type Observable } from '../../src/index.js';

function capturing<T>(): { subject: Subject<T>; listenerErrors: unknown[] } {
  const listenerErrors: unknown[] = [];
  return { subject: new Subject<T>({ onListenerError: (e) => listenerErrors.push(e) }), listenerErrors };
}

describe('Subject delivery', () => {
  test('delivers synchronously, before next() returns, to every subscriber in subscription order', () => {
    const subject = new Subject<number>();
    const seen: string[] = [];
    subject.subscribe((v) => seen.push(`a${v}`));
    subject.subscribe({ next: (v) => seen.push(`b${v}`) });
    subject.next(1);
    assert.deepEqual(seen, ['a1', 'b1']);
    subject.next(2);
    assert.deepEqual(seen, ['a1', 'b1', 'a2', 'b2']);
  });

  test('unsubscribe stops delivery, is idempotent, and an observer unsubscribed mid-delivery is skipped', () => {
    const subject = new Subject<number>();
    const seen: string[] = [];
    const subB = { current: undefined as undefined | { unsubscribe(): void } };
    const a = subject.subscribe((v) => {
      seen.push(`a${v}`);
      if (v === 2) subB.current?.unsubscribe();
    });
    subB.current = subject.subscribe((v) => seen.push(`b${v}`));
    subject.next(1);
    subject.next(2);
    subject.next(3);
    a.unsubscribe();
    a.unsubscribe();
    subject.next(4);
    assert.deepEqual(seen, ['a1', 'b1', 'a2', 'a3']);
    assert.equal(subject.observerCount, 0);
  });

  test('a subscriber added during delivery does not receive the value being delivered', () => {
    const subject = new Subject<number>();
    const late: number[] = [];
    let added = false;
    subject.subscribe(() => {
      if (!added) {
        added = true;
        subject.subscribe((v) => late.push(v));
      }
    });
    subject.next(1);
    subject.next(2);
    assert.deepEqual(late, [2]);
  });

  test('a throwing listener does not break delivery to the others and is reported', () => {
    const { subject, listenerErrors } = capturing<number>();
    const seen: number[] = [];
    const boom = new Error('listener bug');
    subject.subscribe(() => {
      throw boom;
    });
    subject.subscribe((v) => seen.push(v));
    subject.next(1);
    subject.next(2);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(listenerErrors, [boom, boom]);
  });

  test('by default a listener error goes to the platform reportError', () => {
    const reported: unknown[] = [];
    const g = globalThis as { reportError?: (e: unknown) => void };
    const previous = g.reportError;
    g.reportError = (e) => reported.push(e);
    try {
      const subject = new Subject<number>();
      const after: number[] = [];
      subject.subscribe(() => {
        throw new Error('x');
      });
      subject.subscribe((v) => after.push(v));
      subject.next(7);
      assert.equal(reported.length, 1);
      assert.deepEqual(after, [7]);
    } finally {
      if (previous === undefined) delete g.reportError;
      else g.reportError = previous;
    }
  });

  test('subscribe rejects something that is neither a function nor an observer object', () => {
    const subject = new Subject<number>();
    assert.throws(() => subject.subscribe(42 as never), { name: 'TypeError', message: /observer must be a function or an object.*42/ });
    assert.throws(() => subject.subscribe(null as never), TypeError);
  });

  test('complete and error reach current observers once; later subscribers are told at once; next after them is ignored', () => {
    const { subject, listenerErrors } = capturing<number>();
    const events: string[] = [];
    subject.subscribe({ next: (v) => events.push(`n${v}`), complete: () => events.push('done') });
    subject.complete();
    subject.complete();
    subject.next(1);
    subject.subscribe({ complete: () => events.push('late-done') });
    assert.deepEqual(events, ['done', 'late-done']);
    assert.equal(subject.closed, true);
    assert.equal(subject.observerCount, 0);

    const failing = capturing<number>();
    const failure = new Error('source died');
    const got: unknown[] = [];
    failing.subject.subscribe({ error: (e) => got.push(e) });
    failing.subject.subscribe(() => {});
    failing.subject.error(failure);
    failing.subject.subscribe({ error: (e) => got.push(e) });
    assert.deepEqual(got, [failure, failure]);
    assert.deepEqual(failing.listenerErrors, [failure], 'an observer without an error handler reports it instead of losing it');
    assert.deepEqual(listenerErrors, []);
  });
});

describe('hostile observers', () => {
  /** An observer whose `next`, `error` and `complete` are getters that throw when read. */
  function hostile(): { observer: object; reads: string[] } {
    const reads: string[] = [];
    const observer = {};
    for (const method of ['next', 'error', 'complete']) {
      Object.defineProperty(observer, method, {
        get() {
          reads.push(method);
          throw new Error(`${method} getter trap`);
        },
      });
    }
    return { observer, reads };
  }

  test('a throwing next getter is reported like a throwing listener: next() and ValueSubject.subscribe() complete and reach the others', () => {
    const { subject, listenerErrors } = capturing<number>();
    const seen: number[] = [];
    subject.subscribe(hostile().observer);
    subject.subscribe((v) => seen.push(v));
    subject.next(1);
    assert.deepEqual(seen, [1]);
    assert.deepEqual(
      listenerErrors.map((e) => (e as Error).message),
      ['next getter trap'],
    );

    const errors: unknown[] = [];
    const valued = new ValueSubject(7, { onListenerError: (e) => errors.push(e) });
    const replayed: number[] = [];
    const subscription = valued.subscribe(hostile().observer);
    valued.subscribe((v) => replayed.push(v));
    valued.next(8);
    assert.deepEqual(replayed, [7, 8]);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['next getter trap', 'next getter trap'],
    );
    subscription.unsubscribe();
  });

  test('throwing error and complete getters are reported and do not stop the others from being told', () => {
    for (const end of ['error', 'complete'] as const) {
      const { subject, listenerErrors } = capturing<number>();
      const told: string[] = [];
      subject.subscribe(hostile().observer);
      subject.subscribe({ next: () => {}, error: () => told.push('error'), complete: () => told.push('complete') });
      if (end === 'error') subject.error(new Error('stream failed'));
      else subject.complete();
      assert.deepEqual(told, [end]);
      assert.deepEqual(
        listenerErrors.map((e) => (e as Error).message),
        [`${end} getter trap`],
      );
      // A late hostile subscriber to the closed stream is handled the same way.
      subject.subscribe(hostile().observer);
      assert.equal(listenerErrors.length, 2);
    }
  });

  test('MemoryManager.set completes with exact accounting when an evictions observer has a throwing next getter; the other observers get the event', () => {
    const cache = new MemoryManager<string, string>({ maxCacheBytes: 100, moderateThreshold: 0.9, criticalThreshold: 1, sizeEstimator: () => 40 });
    const original = console.error;
    const reported: unknown[] = [];
    console.error = (...args: unknown[]) => reported.push(args.at(-1));
    try {
      const { observer } = hostile();
      cache.evictions.subscribe(observer);
      const seen: EvictionEvent[] = [];
      cache.evictions.subscribe((event) => seen.push(event));
      assert.equal(cache.set('a', 'x'), true);
      assert.equal(cache.set('b', 'x'), true);
      assert.equal(cache.set('c', 'x'), true, 'set completed the eviction and stored the entry');
      assert.deepEqual(
        seen.map(({ key, bytes, reason }) => ({ key, bytes, reason })),
        [{ key: 'a', bytes: 40, reason: 'capacity' }],
      );
      assert.equal(cache.has('a'), false);
      assert.equal(cache.metrics.currentUsage, 80);
      assert.equal(cache.metrics.entryCount, 2);
      assert.equal(cache.metrics.evictionCount, 1);
      assert.deepEqual(
        reported.map((e) => (e as Error).message),
        ['next getter trap'],
      );
    } finally {
      console.error = original;
    }
  });
});

describe('ValueSubject', () => {
  test('gives a new subscriber the current value at once, then every later value', () => {
    const subject = new ValueSubject('normal');
    const seen: string[] = [];
    subject.subscribe((v) => seen.push(v));
    assert.deepEqual(seen, ['normal']);
    subject.next('moderate');
    assert.equal(subject.value, 'moderate');
    const late: string[] = [];
    subject.subscribe((v) => late.push(v));
    assert.deepEqual(late, ['moderate']);
    subject.next('critical');
    assert.deepEqual(seen, ['normal', 'moderate', 'critical']);
    assert.deepEqual(late, ['moderate', 'critical']);
  });

  test('a subscriber added during delivery receives the new value exactly once', () => {
    const subject = new ValueSubject(0);
    const late: number[] = [];
    subject.subscribe((v) => {
      if (v === 1) subject.subscribe((x) => late.push(x));
    });
    subject.next(1);
    subject.next(2);
    assert.deepEqual(late, [1, 2]);
  });

  test('a replay that throws is isolated like any delivery', () => {
    const errors: unknown[] = [];
    const subject = new ValueSubject(1, { onListenerError: (e) => errors.push(e) });
    const seen: number[] = [];
    subject.subscribe(() => {
      throw new Error('on replay');
    });
    subject.subscribe((v) => seen.push(v));
    assert.equal(errors.length, 1);
    assert.deepEqual(seen, [1]);
  });
});

describe('asObservable', () => {
  test('a read-only view delivers the same values but exposes no next', () => {
    const subject = new ValueSubject(1);
    const view: Observable<number> = subject.asObservable();
    const seen: number[] = [];
    const sub = view.subscribe((v) => seen.push(v));
    subject.next(2);
    sub.unsubscribe();
    subject.next(3);
    assert.deepEqual(seen, [1, 2]);
    assert.equal((view as unknown as { next?: unknown }).next, undefined);
  });
});

describe('for await', () => {
  test('yields values, buffers the ones not yet pulled, and unsubscribes on break', async () => {
    const subject = new Subject<number>();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const value of subject) {
        seen.push(value);
        if (value === 3) break;
      }
    })();
    assert.equal(subject.observerCount, 1);
    subject.next(1);
    subject.next(2);
    subject.next(3);
    subject.next(4);
    await loop;
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(subject.observerCount, 0, 'break unsubscribed');
  });

  test('starts with the current value of a ValueSubject and ends when the stream completes', async () => {
    const subject = new ValueSubject('a');
    const seen: string[] = [];
    const loop = (async () => {
      for await (const value of subject) seen.push(value);
    })();
    subject.next('b');
    subject.complete();
    await loop;
    assert.deepEqual(seen, ['a', 'b']);
  });

  test('throws the stream error after the values before it', async () => {
    const subject = new Subject<number>();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const value of subject) seen.push(value);
    })();
    subject.next(1);
    subject.error(new Error('upstream'));
    await assert.rejects(loop, /upstream/);
    assert.deepEqual(seen, [1]);
  });

  test('the read-only view is async iterable too and unsubscribes on return()', async () => {
    const subject = new Subject<number>();
    const iterator = subject.asObservable()[Symbol.asyncIterator]();
    subject.next(5);
    assert.deepEqual(await iterator.next(), { value: 5, done: false });
    await iterator.return?.();
    assert.equal(subject.observerCount, 0);
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  });
});

describe('interop with real RxJS', () => {
  test("answers ['@@observable']() (and Symbol.observable when defined) with itself", () => {
    const subject = new Subject<number>();
    const interop = subject as unknown as Record<string | symbol, () => unknown>;
    assert.equal(interop['@@observable']?.(), subject);
    const symbol = (Symbol as unknown as { observable?: symbol }).observable;
    if (symbol !== undefined) assert.equal(interop[symbol]?.(), subject);
    const view = subject.asObservable() as unknown as Record<string, () => unknown>;
    assert.equal(view['@@observable']?.(), view);
  });

  test('RxJS from() subscribes, receives values in order, and unsubscribes when its pipeline completes', async () => {
    const subject = new Subject<number>();
    const result = firstValueFrom(
      from(subject).pipe(
        map((v) => v * 10),
        take(3),
        toArray(),
      ),
    );
    assert.equal(subject.observerCount, 1);
    subject.next(1);
    subject.next(2);
    subject.next(3);
    assert.equal(subject.observerCount, 0, 'take(3) unsubscribed from our stream');
    subject.next(4);
    assert.deepEqual(await result, [10, 20, 30]);
  });

  test('RxJS sees the replayed value of a ValueSubject, completion and errors', async () => {
    const value = new ValueSubject('normal');
    const levels = firstValueFrom(from(value.asObservable()).pipe(take(2), toArray()));
    value.next('critical');
    assert.deepEqual(await levels, ['normal', 'critical']);

    const completing = new Subject<number>();
    const all = firstValueFrom(from(completing).pipe(toArray()));
    completing.next(1);
    completing.complete();
    assert.deepEqual(await all, [1]);

    const failing = new Subject<number>();
    const failed = firstValueFrom(from(failing));
    failing.error(new Error('broken source'));
    await assert.rejects(failed, /broken source/);
  });

  test('an RxJS Observable can subscribe our stream as its source (Subscription shape)', () => {
    const subject = new Subject<string>();
    const seen: string[] = [];
    const wrapped = new RxObservable<string>((subscriber) => {
      const subscription = subject.subscribe(subscriber);
      return () => subscription.unsubscribe();
    });
    const rx = wrapped.subscribe((v) => seen.push(v));
    subject.next('x');
    rx.unsubscribe();
    subject.next('y');
    assert.deepEqual(seen, ['x']);
    assert.equal(subject.observerCount, 0);
  });
});
