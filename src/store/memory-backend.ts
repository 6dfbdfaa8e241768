/**
 * The embedded backend: items in a `Map`, for tests, prototypes and data that
 * lives in the process anyway.
 *
 * - Costs: `get` and `delete` O(1) plus a `structuredClone` of the item, `save`
 *   two (the stored copy and the one it resolves to, which the store caches);
 *   `getMany` O(n). Every call is asynchronous, as a real backend's would be.
 * - Isolation: items are cloned on the way in and out, so mutating an object
 *   after saving it, or one returned by `get`, does not change what is
 *   stored, exactly as with a database. `clone: false` skips this (faster,
 *   but then the backend holds the caller's objects).
 * - Latency: `latencyMs` delays every call through the injectable `Clock`
 *   (a `ManualClock` makes simulated latency deterministic in tests).
 * - Peers: `peer()` opens a second handle on the same items, as a second
 *   process would have on a database. A write through one handle appears on
 *   every other handle's `changes`, never on its own, which is the contract
 *   every backend's `changes` follows.
 */
import { requireDurationMs } from '../checks.js';
import { clockOption } from '../clock.js';
import type { Clock } from '../clock.js';
import { Subject } from '../observable.js';
import type { Observable } from '../observable.js';
import type { Backend } from './backend.js';

export interface MemoryBackendOptions<T, ID> {
  /** The id of an item. */
  idOf: (item: T) => ID;
  /** Simulated latency of every call, in milliseconds. Default 0 (still asynchronous). */
  latencyMs?: number;
  /** Clone items on save and on read (`structuredClone`). Default true. */
  clone?: boolean;
  /** Timer source for `latencyMs`. Default: the process-wide default clock. */
  clock?: Clock;
}

interface SharedItems<T, ID> {
  readonly items: Map<ID, T>;
  readonly handles: Set<MemoryBackend<T, ID>>;
}

// Handed from `peer()` to the constructor it calls, so the constructor's public signature stays the contract's.
let adopting: SharedItems<unknown, unknown> | undefined;

export class MemoryBackend<T, ID> implements Backend<T, ID> {
  readonly #idOf: (item: T) => ID;
  readonly #latencyMs: number;
  readonly #clone: boolean;
  readonly #clock: Clock;
  readonly #shared: SharedItems<T, ID>;
  readonly #changes = new Subject<ID>();

  /** Ids written or deleted through another handle on the same items (see `peer()`). */
  readonly changes: Observable<ID> = this.#changes.asObservable();

  constructor(options: MemoryBackendOptions<T, ID>) {
    const shared = adopting as SharedItems<T, ID> | undefined;
    adopting = undefined;
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`MemoryBackend options must be an object with idOf, got ${options === null ? 'null' : typeof options}`);
    }
    if (typeof options.idOf !== 'function') {
      throw new TypeError(`idOf must be a function, got ${typeof options.idOf}`);
    }
    const latencyMs = requireDurationMs('latencyMs', options.latencyMs ?? 0, { allowZero: true });
    if (options.clone !== undefined && typeof options.clone !== 'boolean') {
      throw new TypeError(`clone must be a boolean, got ${typeof options.clone}`);
    }
    const clock = clockOption(options.clock);
    this.#idOf = options.idOf;
    this.#latencyMs = latencyMs;
    this.#clone = options.clone ?? true;
    this.#clock = clock;
    this.#shared = shared ?? { items: new Map(), handles: new Set() };
    this.#shared.handles.add(this);
  }

  /**
   * A second handle on the same items, with the same options: its writes
   * appear on this handle's `changes` and this handle's writes on its own.
   */
  peer(): MemoryBackend<T, ID> {
    adopting = this.#shared as unknown as SharedItems<unknown, unknown>;
    return new MemoryBackend<T, ID>({ idOf: this.#idOf, latencyMs: this.#latencyMs, clone: this.#clone, clock: this.#clock });
  }

  /** Detaches this handle from its peers (they stop seeing its writes as changes and it stops seeing theirs). */
  close(): void {
    this.#shared.handles.delete(this);
  }

  /** Number of items stored (shared by all peers). */
  get size(): number {
    return this.#shared.items.size;
  }

  async get(id: ID): Promise<T | undefined> {
    await this.#delay();
    const item = this.#shared.items.get(id);
    return item === undefined ? undefined : this.#copy(item);
  }

  async getMany(ids: readonly ID[]): Promise<Map<ID, T>> {
    if (!Array.isArray(ids)) throw new TypeError(`ids must be an array, got ${typeof ids}`);
    await this.#delay();
    const found = new Map<ID, T>();
    for (const id of ids) {
      const item = this.#shared.items.get(id);
      if (item !== undefined) found.set(id, this.#copy(item));
    }
    return found;
  }

  /** Resolves to a copy of the item as stored (the item itself with `clone: false`). */
  async save(item: T): Promise<T> {
    const id = this.#idOf(item);
    const copy = this.#copy(item);
    await this.#delay();
    this.#shared.items.set(id, copy);
    this.#announce(id);
    return this.#copy(copy);
  }

  async delete(id: ID): Promise<void> {
    await this.#delay();
    if (this.#shared.items.delete(id)) this.#announce(id);
  }

  #announce(id: ID): void {
    for (const handle of this.#shared.handles) {
      if (handle !== this) handle.#changes.next(id);
    }
  }

  #copy(item: T): T {
    return this.#clone ? structuredClone(item) : item;
  }

  #delay(): Promise<void> {
    if (this.#latencyMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const handle: unknown = this.#clock.setTimeout(resolve, this.#latencyMs);
      // Clock timers are unref'd, but simulated latency stands for I/O in flight, which does keep a process
      // alive: without this, `await backend.get()` could be the last thing a script waits for and never finish.
      if (typeof handle === 'object' && handle !== null && typeof (handle as { ref?: unknown }).ref === 'function') {
        (handle as { ref(): unknown }).ref();
      }
    });
  }
}
