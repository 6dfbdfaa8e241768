/**
 * Where a `NexusStore` keeps its items: the source of truth behind the cache.
 *
 * A backend is four async operations and up to two optional streams. The
 * store never trusts a backend to be fast or local: every call may take a
 * network round trip, fail, or race with writers in other processes, and the
 * store's cache stays correct under all three (see `nexus-store.ts`).
 *
 * Two streams tell the store that its cached copies went stale:
 *
 * - `changes` carries single ids written or deleted *elsewhere*: through
 *   another backend instance (another process, or a second instance in this
 *   one). The store drops its copy of each id (and re-reads it if pinned).
 *   A backend does not echo its own writes here: the store that made them
 *   already holds the fresh value, and dropping it would only cost a re-read.
 * - `resyncs` says "anything may have changed": the backend lost track of the
 *   changes it would normally report (say, a dropped LISTEN connection whose
 *   notifications are gone). The store drops every unpinned item and re-reads
 *   the pinned ones rather than serve data it can no longer vouch for.
 *
 * Ids: the store compares ids with `Map` semantics (SameValueZero), so ids are
 * best kept as strings or numbers, one type per store; a backend may narrow
 * that further (the PostgreSQL backend accepts strings and finite numbers).
 * A backend that keys on text may report a change as `"1"` for a numeric id
 * `1` (or the reverse): the store takes both as the same id.
 *
 * Anyone writing a backend can check it against the shared conformance suite,
 * published as `nexus-store/testing` (`describeBackendConformance`, run with
 * `node --test`; see the README). `MemoryBackend` and `PostgresBackend` pass it.
 */
import type { Observable } from '../observable.js';

export interface Backend<T, ID> {
  /** The item with this id, or `undefined` when there is none. */
  get(id: ID): Promise<T | undefined>;
  /**
   * The items found among `ids`, keyed by the ids as passed (missing ids are
   * absent from the map). One round trip for all of them where the storage
   * allows it; without it the store calls `get` once per id.
   */
  getMany?(ids: readonly ID[]): Promise<Map<ID, T>>;
  /**
   * Inserts or replaces the item under its id. Resolves once it is durable,
   * to the item as stored (a copy equal to what `get` would now return),
   * which is what the store caches. A backend that resolves to nothing
   * makes the store drop the id instead: it never caches the caller's
   * object, which the caller may mutate and the backend may have changed.
   */
  save(item: T): Promise<T | void>;
  /** Removes the item; resolves without error when there was none. */
  delete(id: ID): Promise<void>;
  /** Ids written or deleted elsewhere (not through this instance); the store drops them. */
  readonly changes?: Observable<ID>;
  /** Emits when any item may have changed unseen; the store drops all unpinned items and re-reads pinned ones. */
  readonly resyncs?: Observable<void>;
}

function isSubscribable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { subscribe?: unknown }).subscribe === 'function';
}

/** Throws a `TypeError` naming the member when `backend` does not have the `Backend` shape. */
export function assertBackend(backend: unknown, field = 'backend'): asserts backend is Backend<unknown, unknown> {
  if (typeof backend !== 'object' || backend === null) {
    throw new TypeError(`${field} must be an object with get, save and delete methods, got ${backend === null ? 'null' : typeof backend}`);
  }
  const b = backend as Record<string, unknown>;
  for (const method of ['get', 'save', 'delete'] as const) {
    if (typeof b[method] !== 'function') {
      throw new TypeError(`${field}.${method} must be a function, got ${typeof b[method]}`);
    }
  }
  if (b['getMany'] !== undefined && typeof b['getMany'] !== 'function') {
    throw new TypeError(`${field}.getMany must be a function when present, got ${typeof b['getMany']}`);
  }
  for (const stream of ['changes', 'resyncs'] as const) {
    if (b[stream] !== undefined && !isSubscribable(b[stream])) {
      throw new TypeError(`${field}.${stream} must be an Observable (an object with subscribe) when present`);
    }
  }
}
