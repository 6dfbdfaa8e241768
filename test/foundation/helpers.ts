// Shared helpers for the foundation tests.
import { ValueSubject, type CleanupContext, type CleanupPriority, type CleanupResult, type MemoryPressureHandler, type MemoryPressureLevel, type ResourceCleaner } from '../../src/index.js';

/** Lets every queued promise continuation run (one macrotask turn drains the microtask queue). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface SpyCleaner extends ResourceCleaner {
  calls: number;
  signals: AbortSignal[];
  /** The level each call was told, in call order (undefined: no context given). */
  levels: Array<MemoryPressureLevel | undefined>;
}

/**
 * A cleaner that records its calls (in `log` when given) and answers with
 * `behaviour(signal)`, by default a success freeing `bytes`.
 */
export function spyCleaner(
  name: string,
  priority: CleanupPriority,
  options: { log?: string[]; bytes?: number; behaviour?: (signal: AbortSignal) => unknown } = {},
): SpyCleaner {
  const spy: SpyCleaner = {
    name,
    priority,
    calls: 0,
    signals: [],
    levels: [],
    cleanup(signal: AbortSignal, context: CleanupContext) {
      spy.calls++;
      spy.signals.push(signal);
      spy.levels.push((context as CleanupContext | undefined)?.level);
      options.log?.push(name);
      if (options.behaviour !== undefined) return options.behaviour(signal) as CleanupResult;
      return { cleanerName: name, bytesFreed: options.bytes ?? 0, success: true, durationMs: 0 };
    },
  };
  return spy;
}

/** A pressure handler driven by hand: `set(level)` publishes like a monitor does. */
export class PressureSpy implements MemoryPressureHandler {
  readonly #subject = new ValueSubject<MemoryPressureLevel>('normal');
  get pressure() {
    return this.#subject;
  }
  get subscriberCount(): number {
    return this.#subject.observerCount;
  }
  currentPressure(): MemoryPressureLevel {
    return this.#subject.value;
  }
  /** Publishes `level` even when it equals the current one (a noisy handler). */
  set(level: MemoryPressureLevel): void {
    this.#subject.next(level);
  }
}
