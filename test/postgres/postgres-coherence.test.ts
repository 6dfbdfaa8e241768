/**
 * Ways a store over PostgreSQL could serve data that is stale or changed,
 * each run against the real server: writes whose outcome the client never
 * learns (a row lock and a query timeout), resyncs with a soft tier, values
 * JSON cannot carry, ids of two types and tables named two ways.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import { PostgresBackend } from '../../src/postgres/index.js';
import type { JsonCodec, PostgresBackendOptions } from '../../src/postgres/index.js';
import { NexusStore } from '../../src/store/nexus-store.js';
import type { StoreConfig } from '../../src/store/nexus-store.js';
import { NexusStoreError } from '../../src/store/store-error.js';
import { firstMatching } from '../../src/testing/index.js';
import { PG_CONFIG, dropTable, probePostgres, uniqueTable } from './pg-helpers.js';

interface Item {
  id: string;
  v: number;
  [field: string]: unknown;
}

const probe = await probePostgres();
const skip = probe.skip;
const pool = skip ? (undefined as unknown as pg.Pool) : new pg.Pool(PG_CONFIG);
after(() => (skip ? undefined : pool.end()));

type Cleanup = { after(fn: () => Promise<void> | void): void };

/** A backend (closed when the test ends; the table is dropped by whoever made it). */
async function backendOn<T, ID extends string | number = string>(
  t: Cleanup,
  options: Partial<PostgresBackendOptions<T, ID>> & { table: string },
): Promise<PostgresBackend<T, ID>> {
  const backend = new PostgresBackend<T, ID>({ pool, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, ...options });
  t.after(() => backend.close());
  await backend.ready();
  return backend;
}

function storeOn<T extends { id: ID }, ID extends string | number>(t: Cleanup, backend: PostgresBackend<T, ID>, config?: StoreConfig<T>) {
  const store = new NexusStore<T, ID>({ backend, idOf: (item) => item.id, ...(config === undefined ? {} : { config }) });
  t.after(() => store.dispose());
  return store;
}

function tableFor(t: Cleanup, prefix?: string): string {
  const table = uniqueTable(prefix);
  t.after(() => dropTable(pool, table));
  return table;
}

describe('writes whose outcome the client never learns (PostgreSQL)', { skip }, () => {
  test('a save that times out behind a row lock and commits after the lock is released leaves no stale copy; nor does a delete', async (t) => {
    const table = tableFor(t);
    // The client gives up after 300 ms; the server keeps the statement waiting on the lock.
    const impatient = new pg.Pool({ ...PG_CONFIG, query_timeout: 300 });
    t.after(() => impatient.end());
    const backend = await backendOn<Item>(t, { table, pool: impatient });
    const store = storeOn(t, backend);
    await store.save({ id: 'x', v: 1 });
    const lockRow = async (): Promise<pg.PoolClient> => {
      const locker = await pool.connect();
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM "${table}" WHERE id = 'x' FOR UPDATE`);
      return locker;
    };

    let locker = await lockRow();
    try {
      await assert.rejects(store.save({ id: 'x', v: 2 }), (error: unknown) => {
        assert.ok(error instanceof NexusStoreError);
        assert.match(error.message, /save\("x"\) failed: .*timeout/i);
        return true;
      });
      assert.equal(store.peek('x'), undefined, 'the failed save dropped the cached copy');
      // The row is still v1 while the write waits, and a read caches it.
      assert.deepEqual(await store.get('x'), { id: 'x', v: 1 });
      const heard = firstMatching(backend.changes, (id) => id === 'x', 10_000);
      await locker.query('COMMIT');
      // The write lands now; its notification is this backend's own, yet it is published.
      await heard;
    } finally {
      locker.release(true); // ends its session: a lock left by a failed assertion goes with it
    }
    assert.equal(store.peek('x'), undefined);
    assert.deepEqual(await store.get('x'), { id: 'x', v: 2 });

    locker = await lockRow();
    try {
      await assert.rejects(store.delete('x'), /delete\("x"\) failed/);
      assert.equal(store.peek('x'), undefined);
      assert.deepEqual(await store.get('x'), { id: 'x', v: 2 });
      const heard = firstMatching(backend.changes, (id) => id === 'x', 10_000);
      await locker.query('COMMIT');
      await heard;
    } finally {
      locker.release(true); // ends its session: a lock left by a failed assertion goes with it
    }
    assert.equal(await store.get('x'), undefined);
  });
});

describe('resyncs and the soft tier (PostgreSQL)', { skip }, () => {
  test('with softEviction, a resync after the listening connection is killed reads the new row, never the soft-held old one', async (t) => {
    const table = tableFor(t);
    // The reconnection waits for the test's clock, so the row certainly changes while nobody listens.
    const clock = new ManualClock();
    const backend = await backendOn<Item>(t, { table, clock, reconnectInitialDelayMs: 50, healthCheckIntervalMs: 0 });
    const store = storeOn(t, backend, { memory: { softEviction: true } });
    await store.save({ id: 's', v: 1 });
    // Held here, so the collector cannot reclaim it: a soft tier that kept it would certainly revive it.
    const old = await store.get('s');

    const reconnecting = firstMatching(backend.listenerState, (state) => state === 'reconnecting', 5000);
    await pool.query('SELECT pg_terminate_backend($1)', [backend.listenerProcessId]);
    await reconnecting;
    await pool.query(`UPDATE "${table}" SET data = jsonb_set(data, '{v}', '2')`);
    const resynced = firstMatching(backend.resyncs, () => true, 5000);
    clock.advance(50);
    await resynced;

    assert.deepEqual(await store.get('s'), { id: 's', v: 2 });
    assert.equal(store.memoryMetrics.softHits, 0);
    assert.deepEqual(old, { id: 's', v: 1 });
  });
});

describe('values JSON cannot carry (PostgreSQL, two stores)', { skip }, () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const cyclic: Record<string, unknown> = { a: {} };
  (cyclic['a'] as Record<string, unknown>)['back'] = cyclic;
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a Date', { createdAt: new Date(0) }, /item\.createdAt is a Date; PostgresBackend stores JSON, which would bring it back as a string\. Convert it to plain JSON, or pass a codec/],
    ['a Map', { m: new Map([[1, 2]]) }, /item\.m is a Map; .* bring it back as \{\}/],
    ['a Set', { s: new Set([1]) }, /item\.s is a Set/],
    ['a RegExp', { r: /x/ }, /item\.r is a RegExp/],
    ['a typed array', { bytes: new Uint8Array([1, 2]) }, /item\.bytes is a Uint8Array/],
    ['NaN', { n: Number.NaN }, /item\.n is NaN; PostgresBackend stores JSON, which stores it as null/],
    ['Infinity', { deep: { list: [1, Number.POSITIVE_INFINITY] } }, /item\.deep\.list\[1\] is Infinity/],
    ['an undefined field', { maybe: undefined }, /item\.maybe is undefined; .* which drops the field/],
    ['a function', { f: () => 1 }, /item\.f is a function/],
    ['a class instance', { at: new Point(1, 2) }, /item\.at is a Point; .* without its class/],
    ['a sparse array', { list: sparse }, /item\.list\[1\] is an empty slot/],
    ['a cycle', { c: cyclic }, /item\.c\.a\.back refers back to item\.c \(a cycle\)/],
    ['a symbol key', { o: { [Symbol('s')]: 1 } }, /item\.o has a symbol key/],
    ['a key with spaces holding a Date', { 'odd key': new Date(0) }, /item\["odd key"\] is a Date/],
  ];

  test('a value JSON would change is refused naming the field, and nothing is written or cached', async (t) => {
    const table = tableFor(t);
    const writer = storeOn(t, await backendOn<Item>(t, { table }));
    const reader = storeOn(t, await backendOn<Item>(t, { table }));
    for (const [what, fields, message] of refused) {
      const error = await writer.save({ id: 'x', v: 1, ...fields }).then(
        () => assert.fail(`${what} was accepted`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof NexusStoreError, what);
      assert.match((error.cause as Error).message, message, what);
      assert.equal(writer.peek('x'), undefined, what);
    }
    assert.equal(await reader.get('x'), undefined);
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n, 0);
  });

  test('what one store caches after a save equals what another store reads, even where JSON normalizes (-0), and later mutation of the saved object changes neither', async (t) => {
    const table = tableFor(t);
    const writer = storeOn(t, await backendOn<Item>(t, { table }));
    const reader = storeOn(t, await backendOn<Item>(t, { table }));
    const item: Item = { id: 'x', v: -0, nested: { list: [1, 'two', null, true] } };
    await writer.save(item);
    (item['nested'] as { list: unknown[] }).list.push('mutated');
    item.v = 5;
    const theirs = await reader.get('x');
    assert.deepEqual(writer.peek('x'), theirs);
    assert.deepEqual(await writer.get('x'), { id: 'x', v: 0, nested: { list: [1, 'two', null, true] } });
  });

  test('a codec carries Dates and Maps: both stores read them back as Dates and Maps, equal to what the writer caches', async (t) => {
    interface Event {
      id: string;
      at: Date;
      tags: Map<string, number>;
    }
    const codec: JsonCodec<Event> = {
      encode: (event) => ({ id: event.id, at: event.at.toISOString(), tags: [...event.tags] }),
      decode: (json) => {
        const { id, at, tags } = json as { id: string; at: string; tags: Array<[string, number]> };
        return { id, at: new Date(at), tags: new Map(tags) };
      },
    };
    const table = tableFor(t);
    const writer = storeOn(t, await backendOn<Event>(t, { table, codec }));
    const reader = storeOn(t, await backendOn<Event>(t, { table, codec }));
    const event: Event = { id: 'e', at: new Date('2026-01-02T03:04:05.678Z'), tags: new Map([['a', 1]]) };
    await writer.save(event);
    event.tags.set('b', 2);
    const theirs = await reader.get('e');
    assert.ok(theirs?.at instanceof Date);
    assert.deepEqual(theirs, { id: 'e', at: new Date('2026-01-02T03:04:05.678Z'), tags: new Map([['a', 1]]) });
    assert.deepEqual(writer.peek('e'), theirs);
    const row = await pool.query(`SELECT data FROM "${table}"`);
    assert.deepEqual(row.rows[0].data, { id: 'e', at: '2026-01-02T03:04:05.678Z', tags: [['a', 1]] });

    // A codec whose output is not plain JSON is refused the same way.
    const lazy = await backendOn<Event>(t, { table, codec: { encode: (e) => e, decode: (json) => json as Event } });
    await assert.rejects(lazy.save(event), /item\.at is a Date/);
  });
});

describe('ids of two types and tables named two ways (PostgreSQL)', { skip }, () => {
  test('a table named with and without its schema derives one channel: the two backends hear each other', async (t) => {
    const table = tableFor(t);
    const bare = await backendOn<Item>(t, { table });
    const qualified = await backendOn<Item>(t, { table: `public.${table}` });
    assert.equal(bare.channel, qualified.channel);
    const heardByQualified = firstMatching(qualified.changes, (id) => id === 'a', 5000);
    await bare.save({ id: 'a', v: 1 });
    await heardByQualified;
    const heardByBare = firstMatching(bare.changes, (id) => id === 'b', 5000);
    await qualified.save({ id: 'b', v: 1 });
    await heardByBare;
  });

  test('a table named without a schema resolves to the schema it is found in, through search_path', async (t) => {
    const schema = uniqueTable('schema');
    await pool.query(`CREATE SCHEMA "${schema}"`);
    t.after(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });
    const table = uniqueTable();
    await pool.query(`CREATE TABLE "${schema}"."${table}" (id text PRIMARY KEY, data jsonb NOT NULL)`);
    const scoped = new pg.Pool({ ...PG_CONFIG, options: `-c search_path=${schema}` });
    t.after(() => scoped.end());
    const bare = await backendOn<Item>(t, { table, pool: scoped, createTable: false });
    const qualified = await backendOn<Item>(t, { table: `${schema}.${table}` });
    assert.equal(bare.channel, `${schema}_${table}_changes`);
    const heard = firstMatching(qualified.changes, (id) => id === 'a', 5000);
    await bare.save({ id: 'a', v: 1 });
    await heard;
  });

  test('ids 1 and "1" name one row: a backend refuses the other type, and a change written as "1" drops a cached 1', async (t) => {
    type Numbered = { id: number; v: number };
    type Named = { id: string; v: number };
    const table = tableFor(t);
    const numeric = await backendOn<Numbered, number>(t, { table });
    const textual = await backendOn<Named, string>(t, { table });
    const numbers = storeOn(t, numeric);
    const texts = storeOn(t, textual);

    await numbers.save({ id: 1, v: 1 });
    await assert.rejects(numeric.get('1' as unknown as number), {
      name: 'TypeError',
      message: /id "1" is a string, but this backend's ids are numbers/,
    });
    assert.deepEqual(await texts.get('1'), { id: 1, v: 1 }, 'the same row');

    const heard = firstMatching(numeric.changes, (id) => id === 1, 5000);
    await texts.save({ id: '1', v: 2 });
    assert.equal(await heard, 1, 'reported in this backend\u2019s id type');
    assert.equal(numbers.peek(1), undefined);
    assert.deepEqual(await numbers.get(1), { id: '1', v: 2 });
  });
});
