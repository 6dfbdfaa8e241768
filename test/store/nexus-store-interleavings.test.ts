/**
 * Random interleavings of reads, writes, deletes, other writers' changes and
 * resyncs, with every backend call split into "the database acts" and "the
 * reply arrives" steps taken in random order. Whatever the schedule, once
 * everything has settled the cache may only hold what the backend holds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NexusStore } from '../../src/store/nexus-store.js';
import { GatedBackend, settle } from './gated-backend.js';
import type { Item } from './gated-backend.js';

const IDS = ['a', 'b'] as const;
type Id = (typeof IDS)[number];

type Command =
  | { kind: 'get'; id: Id }
  | { kind: 'getMany'; ids: Id[] }
  | { kind: 'save'; id: Id }
  | { kind: 'delete'; id: Id }
  | { kind: 'pin'; id: Id }
  | { kind: 'unpin'; id: Id }
  | { kind: 'remoteSave'; id: Id }
  | { kind: 'remoteDelete'; id: Id }
  | { kind: 'deliverNotification'; pick: number }
  | { kind: 'resync' }
  | { kind: 'evict' }
  | { kind: 'step'; pick: number; fail: boolean };

const id = fc.constantFrom(...IDS);
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('get' as const), id }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('getMany' as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 2 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('save' as const), id }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), id }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('pin' as const), id }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('unpin' as const), id }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('remoteSave' as const), id }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('remoteDelete' as const), id }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('deliverNotification' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'resync' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'evict' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('step' as const), pick: fc.nat(), fail: fc.boolean() }), weight: 10 },
);

test('after any interleaving settles, every cached item equals the backend’s', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 80 }), fc.boolean(), async (commands, withGetMany) => {
      const backend = new GatedBackend({ getMany: withGetMany });
      for (const key of IDS) await backend.storage.save({ id: key, v: 0 });
      backend.hold = true;
      const store = new NexusStore<Item, string>({ backend, idOf: (item) => item.id });
      const running: Promise<unknown>[] = [];
      const notifications: Id[] = [];
      let version = 0;
      const track = (promise: Promise<unknown>) => running.push(promise.catch(() => undefined));

      for (const c of commands) {
        switch (c.kind) {
          case 'get':
            track(store.get(c.id));
            break;
          case 'getMany':
            track(store.getMany(c.ids));
            break;
          case 'save':
            track(store.save({ id: c.id, v: ++version }));
            break;
          case 'delete':
            track(store.delete(c.id));
            break;
          case 'pin':
            track(store.pin(c.id));
            break;
          case 'unpin':
            track(store.unpin(c.id));
            break;
          case 'remoteSave':
            // Another process commits now; its notification arrives later.
            await backend.storage.save({ id: c.id, v: ++version });
            notifications.push(c.id);
            break;
          case 'remoteDelete':
            await backend.storage.delete(c.id);
            notifications.push(c.id);
            break;
          case 'deliverNotification':
            if (notifications.length > 0) backend.changesSubject.next(notifications.splice(c.pick % notifications.length, 1)[0] as Id);
            break;
          case 'resync':
            // A reconnect: earlier notifications are lost, the backend says "anything may be stale".
            notifications.length = 0;
            backend.resyncsSubject.next();
            break;
          case 'evict':
            await store.evictLeastRecentlyUsed({ count: 1 });
            break;
          case 'step': {
            await settle();
            if (backend.pending.length === 0) break;
            const index = c.pick % backend.pending.length;
            const call = backend.pending[index];
            if (call === undefined) break;
            if (!call.executed && c.fail) {
              backend.pending.splice(index, 1);
              call.fail(new Error('injected failure'));
            } else if (!call.executed) {
              await call.execute();
            } else {
              backend.pending.splice(index, 1);
              await call.respond();
            }
            break;
          }
        }
      }
      // Quiesce: answer everything (background re-reads may add calls), deliver every notification.
      for (let rounds = 0; rounds < 1000; rounds++) {
        await settle();
        const call = backend.pending.shift();
        if (call === undefined) {
          const id = notifications.shift();
          if (id === undefined) break;
          backend.changesSubject.next(id);
          continue;
        }
        await call.release();
      }
      await Promise.all(running);
      await settle();
      assert.equal(backend.pending.length, 0);

      for (const key of IDS) {
        const cached = store.peek(key);
        if (cached !== undefined) assert.deepEqual(cached, await backend.storage.get(key), `cached ${key} is stale`);
      }
      await store.dispose();
    }),
    { numRuns: 1000 },
  );
});
