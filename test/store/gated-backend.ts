/**
 * A Backend for interleaving tests: every call waits at a gate until the test
 * lets it through, in two steps that a real network round trip also has:
 * `execute()` applies the operation to the underlying MemoryBackend (the
 * moment a database would read or commit), `respond()` delivers the result
 * to the caller (the moment the reply arrives). `release()` does both.
 * With `hold = false` calls go straight through.
 */
import { Subject } from '../../src/observable.js';
import type { Backend } from '../../src/store/backend.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';

export interface Item {
  id: string;
  v: number;
  [field: string]: unknown;
}

export type Operation = 'get' | 'getMany' | 'save' | 'delete';

export interface PendingCall {
  readonly op: Operation;
  readonly ids: readonly string[];
  /** True once `execute` ran. */
  readonly executed: boolean;
  /** Applies the operation now (reads or writes the storage); the caller is not answered yet. */
  execute(): Promise<void>;
  /** Answers the caller (executing first if not done yet). */
  respond(): Promise<void>;
  /** Execute and respond. */
  release(): Promise<void>;
  /** Answers the caller with this error; the storage is not touched (unless already executed). */
  fail(error: Error): void;
}

export class GatedBackend implements Backend<Item, string> {
  readonly storage = new MemoryBackend<Item, string>({ idOf: (item) => item.id });
  readonly calls: Array<{ op: Operation; ids: readonly string[] }> = [];
  readonly pending: PendingCall[] = [];
  readonly changesSubject = new Subject<string>();
  readonly resyncsSubject = new Subject<void>();
  readonly changes = this.changesSubject.asObservable();
  readonly resyncs = this.resyncsSubject.asObservable();
  hold = false;
  /** When set, the next calls of that operation fail with this error (storage untouched). */
  failNext: Partial<Record<Operation, Error>> = {};
  readonly #withGetMany: boolean;

  constructor(options: { getMany?: boolean } = {}) {
    this.#withGetMany = options.getMany ?? true;
    if (!this.#withGetMany) (this as { getMany?: unknown }).getMany = undefined;
  }

  get(id: string): Promise<Item | undefined> {
    return this.#call('get', [id], () => this.storage.get(id));
  }

  getMany(ids: readonly string[]): Promise<Map<string, Item>> {
    return this.#call('getMany', [...ids], () => this.storage.getMany(ids));
  }

  save(item: Item): Promise<Item> {
    return this.#call('save', [item.id], () => this.storage.save(item));
  }

  delete(id: string): Promise<void> {
    return this.#call('delete', [id], () => this.storage.delete(id));
  }

  /** Calls of one operation made so far. */
  count(op: Operation): number {
    return this.calls.filter((call) => call.op === op).length;
  }

  /** The oldest pending call of `op` (for `id` when given); throws when there is none. */
  take(op: Operation, id?: string): PendingCall {
    const index = this.pending.findIndex((call) => call.op === op && (id === undefined || call.ids.includes(id)));
    if (index < 0) throw new Error(`no pending ${op}${id === undefined ? '' : ` for ${id}`}: ${this.pending.map((c) => c.op).join(', ')}`);
    return this.pending.splice(index, 1)[0] as PendingCall;
  }

  #call<R>(op: Operation, ids: readonly string[], run: () => Promise<R>): Promise<R> {
    this.calls.push({ op, ids });
    const failure = this.failNext[op];
    if (failure !== undefined) {
      delete this.failNext[op];
      return Promise.reject(failure);
    }
    if (!this.hold) return run();
    return new Promise<R>((resolve, reject) => {
      let outcome: Promise<{ ok: true; value: R } | { ok: false; error: unknown }> | undefined;
      const execute = async () => {
        outcome ??= run().then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        await outcome;
      };
      const respond = async () => {
        await execute();
        const result = await (outcome as NonNullable<typeof outcome>);
        if (result.ok) resolve(result.value);
        else reject(result.error);
        // Let the caller's continuation run before the test goes on.
        for (let i = 0; i < 10; i++) await Promise.resolve();
      };
      this.pending.push({
        op,
        ids,
        get executed() {
          return outcome !== undefined;
        },
        execute,
        respond,
        release: respond,
        fail: (error) => reject(error),
      });
    });
  }
}

/** Lets queued promise continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
