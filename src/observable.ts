/**
 * The one stream type of the library.
 *
 * `Subject` is a minimal multicast stream: a `Set` of observers, each called
 * synchronously in subscription order, so a value is seen before the call
 * that produced it returns (an eviction is seen inside the `set` that caused
 * it). A throwing listener is isolated: the error goes to the subject's
 * `onListenerError` hook (by default the platform's `reportError`, or
 * `console.error`) and delivery goes on to the other listeners.
 * `ValueSubject` adds a current value that each new subscriber gets at once.
 *
 * Interop: `[Symbol.observable]()` and `['@@observable']()` return the
 * stream itself, so RxJS `from(stream)` works without a dependency on RxJS;
 * `for await` buffers values and unsubscribes when the loop ends.
 */

export interface Observer<T> {
  next(value: T): void;
  error?(err: unknown): void;
  complete?(): void;
}

export interface Subscription {
  unsubscribe(): void;
}

export interface Observable<T> extends AsyncIterable<T> {
  subscribe(observer: ((value: T) => void) | Partial<Observer<T>>): Subscription;
}

/** `Symbol.observable` where some library defined it, else the string key RxJS falls back to. */
const symbolObservable: symbol | '@@observable' =
  (typeof Symbol === 'function' && (Symbol as unknown as { observable?: symbol }).observable) || '@@observable';

export type ListenerErrorHandler = (error: unknown) => void;

function defaultListenerErrorHandler(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error('nexus-store: a stream listener threw', error);
}

/** `since`: the emission count when it subscribed; it receives only later emissions. */
type Entry<T> = { observer: Partial<Observer<T>>; active: boolean; since: number };

export class Subject<T> implements Observable<T> {
  #entries = new Set<Entry<T>>();
  #emissions = 0;
  #closed: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  readonly #onListenerError: ListenerErrorHandler;

  constructor(options: { onListenerError?: ListenerErrorHandler } = {}) {
    this.#onListenerError = options.onListenerError ?? defaultListenerErrorHandler;
  }

  /** Number of current subscribers. */
  get observerCount(): number {
    return this.#entries.size;
  }

  /** True once `complete` or `error` was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  subscribe(observer: ((value: T) => void) | Partial<Observer<T>>): Subscription {
    if (typeof observer !== 'function' && (typeof observer !== 'object' || observer === null)) {
      throw new TypeError(`observer must be a function or an object with next/error/complete, got ${String(observer)}`);
    }
    const normalized: Partial<Observer<T>> = typeof observer === 'function' ? { next: observer } : observer;
    const entry: Entry<T> = { observer: normalized, active: true, since: this.#emissions };
    const subscription: Subscription = {
      unsubscribe: () => {
        entry.active = false;
        this.#entries.delete(entry);
      },
    };
    if (this.#closed !== undefined) {
      entry.active = false;
      if (this.#closed.kind === 'complete') this.#call(() => normalized.complete?.());
      else {
        const { error } = this.#closed;
        this.#call(() => normalized.error?.(error));
      }
      return subscription;
    }
    this.#entries.add(entry);
    this.onSubscribe(normalized, entry);
    return subscription;
  }

  /** Hook for subclasses that replay something to a new subscriber. */
  protected onSubscribe(observer: Partial<Observer<T>>, entry: { active: boolean }): void {
    void observer;
    void entry;
  }

  protected deliver(observer: Partial<Observer<T>>, value: T): void {
    // The method is read inside the guard: an observer is user code, and a
    // `next` getter that throws is as much a listener failure as a `next`
    // that throws.
    try {
      const next = observer.next;
      if (next !== undefined) next.call(observer, value);
    } catch (error) {
      this.#onListenerError(error);
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#onListenerError(error);
    }
  }

  next(value: T): void {
    if (this.#closed !== undefined) return;
    const emission = ++this.#emissions;
    for (const entry of this.#entries) {
      // A listener may unsubscribe another during delivery (skip it then) or
      // subscribe a new one: a Set visits entries added during iteration, but
      // the newcomer must not receive the value being delivered (a
      // ValueSubject has already replayed it to them).
      if (entry.active && entry.since < emission) this.deliver(entry.observer, value);
    }
  }

  error(error: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = { kind: 'error', error };
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const entry of entries) {
      entry.active = false;
      const observer = entry.observer;
      let handler: Observer<T>['error'];
      try {
        handler = observer.error;
      } catch (readError) {
        this.#onListenerError(readError);
        continue;
      }
      if (handler !== undefined) this.#call(() => handler.call(observer, error));
      else this.#onListenerError(error);
    }
  }

  complete(): void {
    if (this.#closed !== undefined) return;
    this.#closed = { kind: 'complete' };
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const entry of entries) {
      entry.active = false;
      this.#call(() => entry.observer.complete?.());
    }
  }

  /** A read-only view of this stream: subscribing works, `next` is not reachable. */
  asObservable(): Observable<T> {
    return toReadonly(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return iterate(this);
  }
}

/**
 * A `Subject` with a current value: a new subscriber receives it at once,
 * then every later value.
 */
export class ValueSubject<T> extends Subject<T> {
  #value: T;

  constructor(initial: T, options: { onListenerError?: ListenerErrorHandler } = {}) {
    super(options);
    this.#value = initial;
  }

  get value(): T {
    return this.#value;
  }

  override next(value: T): void {
    this.#value = value;
    super.next(value);
  }

  protected override onSubscribe(observer: Partial<Observer<T>>, entry: { active: boolean }): void {
    if (entry.active) this.deliver(observer, this.#value);
  }
}

function toReadonly<T>(source: Observable<T>): Observable<T> {
  const view: Observable<T> & Record<string | symbol, unknown> = {
    subscribe: (observer) => source.subscribe(observer),
    [Symbol.asyncIterator]: () => iterate(source),
  };
  view[symbolObservable] = () => view;
  view['@@observable'] = () => view;
  return view;
}

// Interop keys on the prototype: `from(subject)` in RxJS calls them.
for (const key of new Set<string | symbol>([symbolObservable, '@@observable'])) {
  Object.defineProperty(Subject.prototype, key, {
    value: function (this: Subject<unknown>) {
      return this;
    },
    writable: true,
    configurable: true,
  });
}

/**
 * Async iteration over a stream: values are queued until pulled; `return()`
 * (a `break` in `for await`) unsubscribes; an error is thrown from `next()`.
 */
function iterate<T>(source: Observable<T>): AsyncIterator<T> {
  const buffer: T[] = [];
  const waiting: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  let finished: { error?: unknown; failed: boolean } | undefined;
  let subscription: Subscription | undefined;

  const finish = (failed: boolean, error?: unknown) => {
    if (finished !== undefined) return;
    finished = failed ? { failed, error } : { failed };
    for (const waiter of waiting.splice(0)) {
      if (failed) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  };

  subscription = source.subscribe({
    next: (value) => {
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter.resolve({ value, done: false });
      else buffer.push(value);
    },
    error: (error) => finish(true, error),
    complete: () => finish(false),
  });

  const stop = () => {
    subscription?.unsubscribe();
    subscription = undefined;
    buffer.length = 0;
    finish(false);
  };

  return {
    next(): Promise<IteratorResult<T>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false });
      if (finished !== undefined) {
        if (finished.failed) {
          const { error } = finished;
          finished = { failed: false };
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error: unknown): Promise<IteratorResult<T>> {
      stop();
      return Promise.reject(error);
    },
  };
}
