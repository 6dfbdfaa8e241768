/**
 * The one time hook of the library.
 *
 * Every timer the library starts (the monitor's polling, the coordinator's
 * per-cleaner timeouts, the Node monitor's limit re-detection) and every
 * timestamp it takes goes through a `Clock`. Each component accepts a `clock`
 * option; when it is omitted the process-wide default is used, which a host
 * can replace with `setDefaultClock` (tests use `ManualClock` to run on fake
 * time instead of sleeping).
 *
 * Timers started through `systemClock` are unref'd where the platform allows
 * it, so a background timer (polling, re-detection) never keeps a Node
 * process alive by itself. A timer that guards a promise a caller awaits (a
 * cleaner's timeout) asks for `{ keepAlive: true }`: otherwise a process with
 * nothing else to do would exit in the middle of `await`, with the awaited
 * promise never settled (Node's exit code 13 at a module's top level).
 */

/** An opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

export interface TimerOptions {
  /**
   * Keep the process alive until the timer fires or is cleared. Default
   * false: the timer does not keep the process alive. A clock without the
   * notion (a browser, `ManualClock`) ignores it.
   */
  keepAlive?: boolean;
}

export interface Clock {
  /** Wall-clock milliseconds, as `Date.now()`. */
  now(): number;
  /**
   * Calls `callback` once after `delayMs`. The timer does not keep the
   * process alive unless `options.keepAlive` is true. A clock written for
   * two arguments still works; its timers then follow its own rule.
   */
  setTimeout(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

interface Unrefable {
  unref(): unknown;
}

function isUnrefable(value: unknown): value is Unrefable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Unrefable>).unref === 'function';
}

/**
 * Platforms store timer delays in a signed 32-bit integer; a longer delay
 * fires at once (Node warns, browsers stay silent). Clamping turns "in 30
 * days" into "in 24.8 days" instead of "now".
 */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The real clock: `Date.now()` and the platform's `setTimeout`, unref'd where possible unless `keepAlive` is asked for. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle {
    const delay = Number.isNaN(delayMs) || delayMs < 0 ? 0 : Math.min(delayMs, MAX_TIMER_DELAY_MS);
    const handle: unknown = globalThis.setTimeout(callback, delay);
    if (options?.keepAlive !== true && isUnrefable(handle)) handle.unref();
    return handle;
  },
  clearTimeout(handle: TimerHandle): void {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
});

let defaultClock: Clock = systemClock;

/** `value` if it has the three `Clock` methods, else a `TypeError` naming `field`. */
export function requireClock(value: unknown, field = 'clock'): Clock {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${field} must be a Clock (now, setTimeout, clearTimeout), got ${value === null ? 'null' : typeof value}`);
  }
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof (value as Partial<Clock>)[method] !== 'function') {
      throw new TypeError(`${field}.${method} must be a function`);
    }
  }
  return value as Clock;
}

/**
 * The clock a component is given: `option` checked with `requireClock`, or
 * the default clock when the option is omitted. Every `clock` option goes
 * through here.
 */
export function clockOption(option: unknown, field = 'clock'): Clock {
  return option === undefined ? defaultClock : requireClock(option, field);
}

/** The clock used by components constructed without a `clock` option. */
export function getDefaultClock(): Clock {
  return defaultClock;
}

/** Replaces the process-wide default clock; returns a function that restores the previous one. */
export function setDefaultClock(clock: Clock): () => void {
  requireClock(clock);
  const previous = defaultClock;
  defaultClock = clock;
  return () => {
    defaultClock = previous;
  };
}

interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told to: for tests and simulations.
 *
 * Timers fire in due order (ties in creation order) during `advance`/`advanceAsync`,
 * each with `now()` set to its due time. Microtasks queued by a callback run
 * before the next timer fires when `advanceAsync` is used.
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #nextId = 1;
  #timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) {
      throw new RangeError(`startMs must be a finite number, got ${String(startMs)}`);
    }
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** `options` is accepted and ignored: manual time keeps nothing alive. */
  setTimeout(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle {
    void options;
    const id = this.#nextId++;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#timers.set(id, { id, dueAt: this.#nowMs + delay, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  #nextDue(limitMs: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.dueAt > limitMs) continue;
      if (next === undefined || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.id < next.id)) next = timer;
    }
    return next;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, synchronously. */
  advance(ms: number): void {
    requireStep(ms);
    const target = this.#nowMs + ms;
    for (let timer = this.#nextDue(target); timer !== undefined; timer = this.#nextDue(target)) {
      this.#timers.delete(timer.id);
      this.#nowMs = timer.dueAt;
      timer.callback();
    }
    this.#nowMs = target;
  }

  /** As `advance`, but lets promises settle after each timer (and once at the end). */
  async advanceAsync(ms: number): Promise<void> {
    requireStep(ms);
    const target = this.#nowMs + ms;
    await flushMicrotasks();
    for (let timer = this.#nextDue(target); timer !== undefined; timer = this.#nextDue(target)) {
      this.#timers.delete(timer.id);
      this.#nowMs = timer.dueAt;
      timer.callback();
      await flushMicrotasks();
    }
    this.#nowMs = target;
    await flushMicrotasks();
  }
}

function requireStep(ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`ms must be a non-negative finite number, got ${String(ms)}`);
  }
}

/** Lets every already-queued promise continuation run (a few macrotask-free turns). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
