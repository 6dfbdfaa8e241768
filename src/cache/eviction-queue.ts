/**
 * The evictions of a `MemoryManager` on their way to its `evictions`
 * stream and its telemetry.
 *
 * Design: the cache queues each eviction while it changes and delivers the
 * queue once the operation's own work is done, still before the operation
 * returns. A listener that calls back into the cache therefore always sees
 * a consistent cache, and can never break an eviction loop half-way. A
 * listener that changes the cache makes that nested call deliver too: it
 * keeps draining this same queue, in order, so every event is delivered
 * once and in eviction order. With no subscriber and no telemetry the cache
 * builds no event at all (`wanted`).
 */
import { Subject, type Observable } from '../observable.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import type { EvictionEvent } from './eviction-event.js';

export class EvictionQueue {
  readonly #subject = new Subject<EvictionEvent>();
  /** The stream of delivered evictions. */
  readonly events: Observable<EvictionEvent>;
  readonly #telemetry: MemoryTelemetry | undefined;
  /** Evictions waiting for delivery; `#head` is the next to deliver. */
  readonly #queue: EvictionEvent[] = [];
  #head = 0;

  constructor(telemetry: MemoryTelemetry | undefined) {
    this.#telemetry = telemetry;
    this.events = this.#subject.asObservable();
  }

  /** Whether an event would reach anyone: a subscriber or telemetry. */
  get wanted(): boolean {
    return this.#subject.observerCount !== 0 || this.#telemetry !== undefined;
  }

  /** Whether events wait for `deliver`. */
  get pending(): boolean {
    return this.#queue.length !== 0;
  }

  push(event: EvictionEvent): void {
    this.#queue.push(event);
  }

  /** Delivers every queued event, in order, to the subscribers, then to telemetry. */
  deliver(): void {
    const queue = this.#queue;
    const telemetry = this.#telemetry;
    while (this.#head < queue.length) {
      const event = queue[this.#head++]!;
      this.#subject.next(event);
      if (telemetry !== undefined) safeRecord(telemetry.recordEviction, telemetry, event);
    }
    queue.length = 0;
    this.#head = 0;
  }
}
