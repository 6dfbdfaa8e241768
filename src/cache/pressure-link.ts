/**
 * The pressure a `MemoryManager` answers to: its own budget's level and an
 * outside handler's, and the stream of the cache's level.
 *
 * Design
 * - The cache's level (`metrics.pressureLevel`, the `pressure` stream) is
 *   the higher of two ranks: the budget's, which the cache computes at the
 *   end of each operation (`settle`), and the handler's, the last level it
 *   reported. A change is published once per operation, to telemetry and
 *   then to the stream.
 * - A plain handler only reports level changes: the cache sheds on each
 *   (`onLevel`). A monitor (a handler with `states`) publishes every
 *   sample: each goes to `onSample` (the pressure ceiling, or shedding by
 *   level for the V8 heap), and its level changes only set the handler's
 *   rank.
 * - A level that is not one of PRESSURE_LEVELS is reported (`report`) and
 *   ignored.
 * - A handler with `noteReleased` is told the bytes each operation dropped
 *   (`released`), so that a monitor can discount garbage the cache left.
 */
import { ValueSubject, type Observable, type Subscription } from '../observable.js';
import { isMemoryPressureLevel, levelAtRank, pressureRank, type MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryState } from '../pressure/memory-state.js';
import { hasStates, type MemoryPressureHandler } from '../pressure/monitor.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';

export interface PressureCallbacks {
  /** The handler reported a level (its rank is set): a plain handler's is to be shed for. */
  onLevel(rank: number): void;
  /** A monitor published a sample at `rank` (its rank is set). */
  onSample(rank: number, state: MemoryState): void;
}

export class PressureLink {
  readonly #subject = new ValueSubject<MemoryPressureLevel>('normal');
  /** The cache's level on subscribe, then each change. */
  readonly levels: Observable<MemoryPressureLevel>;
  readonly #telemetry: MemoryTelemetry | undefined;
  readonly #report: (error: Error) => void;
  #handlerRank = 0;
  #levelRank = 0;
  #subscriptions: Subscription[] = [];
  #noteReleased: ((bytes: number) => void) | undefined;
  /** Whether the handler is told the bytes each operation dropped (`released`): a plain field, read at the end of every operation. */
  notesReleased = false;
  /** Whether the handler is a monitor, publishing samples. */
  #sampled = false;

  constructor(telemetry: MemoryTelemetry | undefined, report: (error: Error) => void) {
    this.levels = this.#subject.asObservable();
    this.#telemetry = telemetry;
    this.#report = report;
  }

  get sampled(): boolean {
    return this.#sampled;
  }

  /** Subscribes to `handler` (which may answer at once, with its current level). */
  listen(handler: MemoryPressureHandler, callbacks: PressureCallbacks): void {
    this.#sampled = hasStates(handler);
    if (typeof handler.noteReleased === 'function') {
      this.#noteReleased = handler.noteReleased.bind(handler);
      this.notesReleased = true;
    }
    this.#subscriptions.push(
      handler.pressure.subscribe((level) => {
        if (!isMemoryPressureLevel(level)) {
          this.#report(new RangeError(`pressureHandler reported an unknown level ${JSON.stringify(level)}; ignored`));
          return;
        }
        this.#handlerRank = pressureRank(level);
        callbacks.onLevel(this.#handlerRank);
      }),
    );
    if (hasStates(handler)) {
      this.#subscriptions.push(
        handler.states.subscribe((state) => {
          const level = (state as { level?: unknown } | null)?.level;
          if (!isMemoryPressureLevel(level)) {
            this.#report(new RangeError(`pressureHandler published a state with an unknown level ${JSON.stringify(level)}; ignored`));
            return;
          }
          // A monitor publishes the sample before its level change: evictions here carry the sample's level.
          this.#handlerRank = pressureRank(level);
          callbacks.onSample(this.#handlerRank, state);
        }),
      );
    }
  }

  /** The handler's last level, as a rank (0 without a handler, or after `dispose`). */
  get handlerRank(): number {
    return this.#handlerRank;
  }

  /** The cache's level now. */
  get level(): MemoryPressureLevel {
    return levelAtRank(this.#levelRank);
  }

  /** Publishes the cache's level for the budget's `budgetRank` if it changed; returns whether it did. */
  settle(budgetRank: number): boolean {
    // Kept small: it runs at the end of every operation, inlined there.
    const rank = budgetRank > this.#handlerRank ? budgetRank : this.#handlerRank;
    if (rank === this.#levelRank) return false;
    this.#publish(rank);
    return true;
  }

  #publish(rank: number): void {
    const from = levelAtRank(this.#levelRank);
    const to = levelAtRank(rank);
    this.#levelRank = rank;
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) safeRecord(telemetry.recordPressureChange, telemetry, from, to);
    this.#subject.next(to);
  }

  /** Tells the handler the bytes an operation dropped (a count, not a call back into the cache); only when `notesReleased`. */
  released(bytes: number): void {
    try {
      this.#noteReleased!(bytes);
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Stops listening: the handler's level no longer counts. `forget` then stops `released` too. */
  dispose(): void {
    const subscriptions = this.#subscriptions;
    this.#subscriptions = [];
    for (const subscription of subscriptions) subscription.unsubscribe();
    this.#handlerRank = 0;
  }

  forget(): void {
    this.#noteReleased = undefined;
    this.notesReleased = false;
  }
}
