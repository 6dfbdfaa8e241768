/**
 * The Backend conformance suite: the behaviour every `Backend` must have for
 * a `NexusStore` to be correct on top of it. Published as
 * `nexus-store/testing`; run it against your own backend with `node --test`:
 *
 *   import { describeBackendConformance } from 'nexus-store/testing';
 *   describeBackendConformance('MyBackend', {
 *     async create() {
 *       const backend = new MyBackend(...);           // fresh, empty storage
 *       const peer = new MyBackend(...);              // optional: a second instance on the same storage
 *       return { backend, peer, dispose: async () => { ... } };
 *     },
 *   });
 *
 * Every test gets fresh storage from `create()` and calls `dispose()` after.
 * With a `peer`, the suite also checks `changes`: writes through the peer are
 * reported on the backend's `changes`, the backend's own writes are not.
 * Items are `ConformanceItem`s with string ids (`item.id`).
 *
 * Unlike the core, this entry uses Node built-ins: `node:test` registers the
 * tests and `node:assert` checks them, so it runs under Node's test runner
 * (and the runners that provide `node:test`). Its waits for `changes` run on
 * `systemClock`, real time, whatever default clock a test has set: the
 * backend under test answers in real time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemClock } from '../clock.js';
import type { Observable } from '../observable.js';
import type { Backend } from '../store/backend.js';

export interface ConformanceItem {
  id: string;
  [field: string]: unknown;
}

export interface BackendUnderTest {
  backend: Backend<ConformanceItem, string>;
  /** A second instance over the same storage (as another process would open); enables the `changes` tests. */
  peer?: Backend<ConformanceItem, string>;
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  create(): Promise<BackendUnderTest>;
  /** A skip message (e.g. the service is absent), or false. */
  skip?: false | string;
  /** How long a write through the peer may take to appear on `changes`. Default 2000 ms. */
  changeTimeoutMs?: number;
}

export const idOfConformanceItem = (item: ConformanceItem): string => item.id;

/** Ids that break naive SQL, key-value or path handling. */
export const HOSTILE_IDS: readonly string[] = [
  "o'brien",
  'say "hi"',
  'back\\slash\\',
  "'; DROP TABLE items; --",
  '$1',
  'ünïcødé-ß-東京-עברית',
  '😀👩‍👩‍👧',
  'tab\tnew\nline\r',
  'percent %s %d _ like',
  '',
  ' ',
  '../../etc/passwd',
  '{"json":true}',
];

const MEGABYTE = 1024 * 1024;

/** A value with every JSON shape and awkward strings in it. */
export function hostileValue(id: string): ConformanceItem {
  return {
    id,
    quotes: `it's "quoted" \`back\` \\ /`,
    unicode: 'naïve café 東京 😀 \u2028\u2029 \u0001\u001f',
    'key with "quotes" and ünïcode': ['nested', { deeper: [null, true, false, 0, -12.5, 1e-7, 2 ** 53 - 1, 1e300] }],
    empty: { object: {}, array: [], string: '' },
    sql: "'; DELETE FROM items; --",
  };
}

/** A 1 MB string (multi-byte characters included) in an item. */
export function megabyteValue(id: string): ConformanceItem {
  const unit = 'abc"\\\'ü€😀\n';
  return { id, body: unit.repeat(Math.ceil(MEGABYTE / unit.length)).slice(0, MEGABYTE) };
}

/** Resolves with the first value matching `match`, or rejects after `timeoutMs`. */
export function firstMatching<T>(stream: Observable<T>, match: (value: T) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    // keepAlive: the caller awaits this promise; a process with nothing else to do must not exit under it.
    const timer = systemClock.setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`no matching value within ${timeoutMs} ms`));
    }, timeoutMs, { keepAlive: true });
    const subscription = stream.subscribe((value) => {
      if (!match(value)) return;
      systemClock.clearTimeout(timer);
      subscription.unsubscribe();
      resolve(value);
    });
  });
}

export function describeBackendConformance(name: string, options: ConformanceOptions): void {
  const skip = options.skip ?? false;
  const changeTimeoutMs = options.changeTimeoutMs ?? 2000;

  async function withBackend(run: (b: BackendUnderTest) => Promise<void>): Promise<void> {
    const harness = await options.create();
    try {
      await run(harness);
    } finally {
      await harness.dispose();
    }
  }

  function withPeer(run: (b: BackendUnderTest & { peer: Backend<ConformanceItem, string> }) => Promise<void>) {
    return async (t: { skip(message?: string): void }) => {
      await withBackend(async (harness) => {
        const { peer } = harness;
        if (peer === undefined) {
          t.skip('no peer instance given');
          return;
        }
        assert.ok(harness.backend.changes, 'a backend with a peer must expose changes');
        await run({ ...harness, peer });
      });
    };
  }

  describe(`Backend conformance: ${name}`, { skip }, () => {
    test('get resolves undefined for an id never saved', () =>
      withBackend(async ({ backend }) => {
        assert.equal(await backend.get('missing'), undefined);
      }));

    test('save then get returns an equal item that is a copy, not the saved object', () =>
      withBackend(async ({ backend }) => {
        const item = { id: 'a', title: 'first', tags: ['x', 'y'], n: 3 };
        await backend.save(item);
        item.tags.push('mutated after save');
        const read = await backend.get('a');
        assert.deepEqual(read, { id: 'a', title: 'first', tags: ['x', 'y'], n: 3 });
        (read as { title: string }).title = 'mutated after read';
        assert.equal((await backend.get('a'))?.['title'], 'first');
      }));

    test('save resolves to nothing, or to a copy of the item equal to what get returns (what the store caches)', () =>
      withBackend(async ({ backend }) => {
        const item = { id: 'a', title: 'first', tags: ['x', 'y'] };
        const stored = await backend.save(item);
        if (stored === undefined) return;
        assert.notEqual(stored, item, 'not the caller\u2019s object');
        assert.notEqual(stored.tags, item.tags, 'no part shared with the caller\u2019s object');
        assert.deepEqual(stored, await backend.get('a'));
      }));

    test('save replaces the item stored under the same id', () =>
      withBackend(async ({ backend }) => {
        await backend.save({ id: 'a', v: 1, old: true });
        await backend.save({ id: 'a', v: 2 });
        assert.deepEqual(await backend.get('a'), { id: 'a', v: 2 });
      }));

    test('delete removes the item, and deleting a missing id resolves', () =>
      withBackend(async ({ backend }) => {
        await backend.save({ id: 'a' });
        await backend.save({ id: 'b' });
        await backend.delete('a');
        assert.equal(await backend.get('a'), undefined);
        assert.deepEqual(await backend.get('b'), { id: 'b' });
        await backend.delete('a');
        await backend.delete('never-existed');
      }));

    test('getMany returns the found items keyed by the ids asked and omits missing ones', (t) =>
      withBackend(async ({ backend }) => {
        if (backend.getMany === undefined) {
          t.skip('no getMany');
          return;
        }
        await backend.save({ id: 'a', n: 1 });
        await backend.save({ id: 'c', n: 3 });
        const found = await backend.getMany(['a', 'b', 'c', 'a']);
        assert.ok(found instanceof Map);
        assert.deepEqual(
          [...found.entries()].sort(([x], [y]) => x.localeCompare(y)),
          [
            ['a', { id: 'a', n: 1 }],
            ['c', { id: 'c', n: 3 }],
          ],
        );
        assert.equal((await backend.getMany([])).size, 0);
      }));

    test('getMany answers hundreds of ids at once', (t) =>
      withBackend(async ({ backend }) => {
        if (backend.getMany === undefined) {
          t.skip('no getMany');
          return;
        }
        const ids = Array.from({ length: 300 }, (_, i) => `item-${i}`);
        await Promise.all(ids.filter((_, i) => i % 3 !== 0).map((id) => backend.save({ id, n: Number(id.slice(5)) })));
        const found = await backend.getMany(ids);
        assert.equal(found.size, 200);
        for (const [id, item] of found) assert.equal(item['n'], Number(id.slice(5)));
        assert.equal(found.has('item-0'), false);
      }));

    test('ids that look alike stay distinct', () =>
      withBackend(async ({ backend }) => {
        const ids = ['1', '01', ' 1', '1 ', 'A', 'a', 'é', 'e\u0301'];
        for (const id of ids) await backend.save({ id, was: id });
        for (const id of ids) assert.deepEqual(await backend.get(id), { id, was: id });
      }));

    test('hostile ids round-trip through save, get, getMany and delete', () =>
      withBackend(async ({ backend }) => {
        for (const id of HOSTILE_IDS) await backend.save({ id, was: id });
        for (const id of HOSTILE_IDS) assert.deepEqual(await backend.get(id), { id, was: id }, `get(${JSON.stringify(id)})`);
        if (backend.getMany !== undefined) {
          const found = await backend.getMany(HOSTILE_IDS);
          assert.deepEqual(new Set(found.keys()), new Set(HOSTILE_IDS));
          for (const [id, item] of found) assert.equal(item['was'], id);
        }
        for (const id of HOSTILE_IDS) await backend.delete(id);
        for (const id of HOSTILE_IDS) assert.equal(await backend.get(id), undefined);
      }));

    test('hostile values round-trip unchanged', () =>
      withBackend(async ({ backend }) => {
        const item = hostileValue('hostile');
        await backend.save(item);
        assert.deepEqual(await backend.get('hostile'), hostileValue('hostile'));
      }));

    test('a 1 MB value round-trips unchanged', () =>
      withBackend(async ({ backend }) => {
        await backend.save(megabyteValue('big'));
        const read = await backend.get('big');
        assert.equal((read?.['body'] as string).length, MEGABYTE);
        assert.deepEqual(read, megabyteValue('big'));
      }));

    test('concurrent saves of different ids all land', () =>
      withBackend(async ({ backend }) => {
        const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
        await Promise.all(ids.map((id) => backend.save({ id, n: id })));
        for (const id of ids) assert.deepEqual(await backend.get(id), { id, n: id });
      }));

    test('a save through another instance is reported on changes with its id', withPeer(async ({ backend, peer }) => {
      const changes = backend.changes as Observable<string>;
      const seen = firstMatching(changes, (id) => id === "o'brien 😀", changeTimeoutMs);
      await peer.save({ id: "o'brien 😀", v: 1 });
      assert.equal(await seen, "o'brien 😀");
      assert.deepEqual(await backend.get("o'brien 😀"), { id: "o'brien 😀", v: 1 });
    }));

    test('a delete through another instance is reported on changes with its id', withPeer(async ({ backend, peer }) => {
      await backend.save({ id: 'doomed' });
      const seen = firstMatching(backend.changes as Observable<string>, (id) => id === 'doomed', changeTimeoutMs);
      await peer.delete('doomed');
      assert.equal(await seen, 'doomed');
    }));

    test('an instance does not report its own writes on its changes', withPeer(async ({ backend, peer }) => {
      const changes = backend.changes as Observable<string>;
      const reported: string[] = [];
      const subscription = changes.subscribe((id) => reported.push(id));
      try {
        await backend.save({ id: 'own' });
        await backend.delete('own');
        // The peer's marker is sent after the own writes; once it arrives, an own notification would have too.
        const marker = firstMatching(changes, (id) => id === 'marker', changeTimeoutMs);
        await peer.save({ id: 'marker' });
        await marker;
        assert.deepEqual(reported, ['marker']);
      } finally {
        subscription.unsubscribe();
      }
    }));
  });
}
