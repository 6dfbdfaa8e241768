import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import { PostgresBackend } from '../../src/postgres/index.js';
import { isDuplicateCreation } from '../../src/postgres/postgres-backend.js';
import type { ListenerState } from '../../src/postgres/index.js';
import { NexusStore } from '../../src/store/nexus-store.js';
import { NexusStoreError } from '../../src/store/store-error.js';
import { firstMatching, hostileValue, HOSTILE_IDS, megabyteValue } from '../../src/testing/index.js';
import type { ConformanceItem } from '../../src/testing/index.js';
import { PG_CONFIG, dropTable, eventually, probePostgres, uniqueTable } from './pg-helpers.js';

interface Item {
  id: string;
  v: number;
}

const probe = await probePostgres();
const skip = probe.skip;
const pool = skip ? (undefined as unknown as pg.Pool) : new pg.Pool(PG_CONFIG);
after(() => (skip ? undefined : pool.end()));

/** A backend on a fresh table, closed and dropped when the test ends. */
async function fresh<T, ID extends string | number = string>(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<ConstructorParameters<typeof PostgresBackend<T, ID>>[0]> = {},
): Promise<PostgresBackend<T, ID>> {
  const table = options.table ?? uniqueTable();
  const backend = new PostgresBackend<T, ID>({ pool, table, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, ...options });
  t.after(async () => {
    await backend.close();
    await dropTable(pool, table);
  });
  await backend.ready();
  return backend;
}

function nextState<T>(backend: PostgresBackend<T, string>, state: ListenerState, timeoutMs = 5000): Promise<ListenerState> {
  return firstMatching(backend.listenerState, (s) => s === state, timeoutMs);
}

describe('PostgresBackend configuration', () => {
  const fakePool = { query: async () => ({ rows: [] }) } as unknown as pg.Pool;
  const quiet = { pool: fakePool, listen: false, createTable: false };

  test('rejects identifiers that are not plain names, naming the field and value', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ table: 'items; DROP TABLE x' }, /table must be an identifier .* got "items; DROP TABLE x"/],
      [{ table: 'a.b.c' }, /table must be "table" or "schema.table", got "a.b.c"/],
      [{ table: '1items' }, /table must be an identifier/],
      [{ table: 'my"table' }, /table must be an identifier/],
      [{ table: '' }, /table must be an identifier/],
      [{ table: 'x'.repeat(64) }, /table must be an identifier of 1 to 63/],
      [{ table: 'bad-schema.items' }, /table \(schema part\) must be an identifier/],
      [{ table: 'app.' }, /table \(table part\) must be an identifier/],
      [{ table: 'items', idColumn: 'id col' }, /idColumn must be an identifier .* got "id col"/],
      [{ table: 'items', dataColumn: 'data"' }, /dataColumn must be an identifier/],
      [{ table: 'items', channel: 'chan nel' }, /channel must be an identifier/],
      [{ table: 'items', idColumn: 'x', dataColumn: 'x' }, /idColumn and dataColumn must differ/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new PostgresBackend({ ...quiet, ...options } as never), { name: 'RangeError', message }, JSON.stringify(options));
    }
    assert.throws(() => new PostgresBackend({ ...quiet, table: 5 } as never), { name: 'TypeError', message: /table must be a string/ });
    assert.throws(() => new PostgresBackend({ table: 'items' } as never), { name: 'TypeError', message: /pool must be a pg.Pool/ });
    assert.throws(() => new PostgresBackend({ ...quiet, table: 'items', reconnectInitialDelayMs: 0 }), { name: 'RangeError', message: /reconnectInitialDelayMs must be a positive finite number of milliseconds, got 0/ });
    assert.throws(() => new PostgresBackend({ ...quiet, table: 'items', reconnectInitialDelayMs: 500, reconnectMaxDelayMs: 100 }), { name: 'RangeError', message: /reconnectMaxDelayMs \(100\) must be >= reconnectInitialDelayMs \(500\)/ });
    assert.throws(() => new PostgresBackend({ ...quiet, table: 'items', healthCheckIntervalMs: -1 }), { name: 'RangeError', message: /healthCheckIntervalMs/ });
    assert.throws(() => new PostgresBackend({ ...quiet, table: 'items', listenerTimeoutMs: Number.POSITIVE_INFINITY }), { name: 'RangeError', message: /listenerTimeoutMs must be a positive finite number of milliseconds, got Infinity/ });
    assert.throws(() => new PostgresBackend({ ...quiet, table: 'items', listen: 'yes' as never }), { name: 'TypeError', message: /listen must be a boolean/ });
  });

  test('quotes identifiers and derives a default channel of at most 63 bytes', () => {
    const plain = new PostgresBackend({ ...quiet, table: 'Items' });
    assert.equal(plain.table, '"Items"');
    assert.equal(plain.channel, undefined, 'the schema of an unqualified table is resolved on the server');
    assert.equal(new PostgresBackend({ ...quiet, table: 'Items', channel: 'mine' }).channel, 'mine');
    const qualified = new PostgresBackend({ ...quiet, table: 'app.items' });
    assert.equal(qualified.table, '"app"."items"');
    assert.equal(qualified.channel, 'app_items_changes');
    const long = new PostgresBackend({ ...quiet, table: `${'s'.repeat(40)}.${'t'.repeat(40)}` });
    assert.ok(long.channel !== undefined && long.channel.length <= 63, long.channel);
    const other = new PostgresBackend({ ...quiet, table: `${'s'.repeat(40)}.${'t'.repeat(39)}u` });
    assert.notEqual(long.channel, other.channel, 'cut names stay distinct through the hash');
  });

  test('rejects ids PostgreSQL text cannot key on before any query', async () => {
    let queries = 0;
    const counting = { query: async () => (queries++, { rows: [] }) } as unknown as pg.Pool;
    const backend = new PostgresBackend<Item, string>({ pool: counting, table: 'items', listen: false });
    await assert.rejects(backend.get('a\u0000b'), { name: 'RangeError', message: /id must not contain U\+0000/ });
    await assert.rejects(backend.get('\ud800x'), { name: 'RangeError', message: /lone surrogate/ });
    await assert.rejects(backend.get('x'.repeat(2049)), { name: 'RangeError', message: /at most 2048 UTF-8 bytes, got 2049/ });
    await assert.rejects(backend.get({} as never), { name: 'TypeError', message: /id must be a string or a finite number, got object/ });
    await assert.rejects(backend.get(Number.NaN as never), { name: 'RangeError', message: /got NaN/ });
    await assert.rejects(backend.getMany(['ok', null as never]), { name: 'TypeError', message: /ids\[1\] must be a string/ });
    await assert.rejects(backend.save({ v: 1 } as never), { name: 'TypeError', message: /idOf\(item\) must be a string or a finite number, got undefined/ });
    await assert.rejects(backend.save({ id: 'a', v: 1, s: 'nul\u0000' } as never), { name: 'RangeError', message: /must not contain U\+0000/ });
    await assert.rejects(backend.save({ id: 'a', v: 1, big: 10n } as never), { name: 'TypeError', message: /BigInt/ });
    assert.equal(queries, 0);
    await backend.close();
    await assert.rejects(backend.get('a'), { message: /closed PostgresBackend/ });
  });
});

describe('PostgresBackend on PostgreSQL', { skip }, () => {
  test('creates the table when missing, with a text key and a jsonb column', async (t) => {
    const table = uniqueTable();
    await fresh<Item>(t, { table, idColumn: 'key', dataColumn: 'doc' });
    const columns = await pool.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
      [table],
    );
    assert.deepEqual(
      columns.rows.map((r) => [r.column_name, r.data_type]),
      [
        ['key', 'text'],
        ['doc', 'jsonb'],
      ],
    );
  });

  test('every error a losing CREATE TABLE IF NOT EXISTS can raise counts as created by the winner, and nothing else does', () => {
    // 42P07 duplicate_table, 42710 duplicate_object ('type "t" already exists', seen in CI),
    // 23505 unique_violation on pg_type_typname_nsp_index (reproduced with psql by holding
    // the winner's transaction open).
    for (const code of ['42P07', '42710', '23505']) assert.equal(isDuplicateCreation({ code }), true, code);
    for (const error of [{ code: '42501' }, { code: '3D000' }, new Error('connection refused'), null, undefined]) {
      assert.equal(isDuplicateCreation(error), false, String((error as { code?: string } | null)?.code ?? error));
    }
  });

  test('backends racing to create the same table all succeed', async (t) => {
    // Each round races fresh backends on a new table; which catalog error the losers see
    // (duplicate table, duplicate row type, unique index) depends on timing, so race often.
    const racers = 6;
    const racePool = new pg.Pool({ ...PG_CONFIG, max: racers });
    const tables: string[] = [];
    const backends: PostgresBackend<Item>[] = [];
    t.after(async () => {
      await Promise.all(backends.map((b) => b.close()));
      for (const table of tables) await dropTable(pool, table);
      await racePool.end();
    });
    for (let round = 0; round < 20; round++) {
      const table = uniqueTable();
      tables.push(table);
      const racing = Array.from({ length: racers }, () => new PostgresBackend<Item>({ pool: racePool, table, listen: false }));
      backends.push(...racing);
      await Promise.all(racing.map((b, i) => b.save({ id: `r${i}`, v: i })));
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n, racers, `round ${round}`);
    }
  });

  test('works on a schema-qualified table', async (t) => {
    const schema = uniqueTable('schema');
    await pool.query(`CREATE SCHEMA "${schema}"`);
    t.after(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });
    const backend = await fresh<Item>(t, { table: `${schema}.items` });
    await backend.save({ id: 'a', v: 1 });
    const rows = await pool.query(`SELECT id, data FROM "${schema}"."items"`);
    assert.deepEqual(rows.rows, [{ id: 'a', data: { id: 'a', v: 1 } }]);
  });

  test('getMany asks the database once for all ids', async (t) => {
    const table = uniqueTable();
    const statements: string[] = [];
    const counting = {
      options: pool.options,
      query: (text: string, values?: unknown[]) => {
        statements.push(text);
        return pool.query(text, values);
      },
    } as unknown as pg.Pool;
    const backend = await fresh<Item>(t, { pool: counting, table });
    for (let i = 0; i < 20; i++) await backend.save({ id: `m${i}`, v: i });
    statements.length = 0;
    const found = await backend.getMany(Array.from({ length: 40 }, (_, i) => `m${i}`));
    assert.equal(found.size, 20);
    assert.equal(statements.length, 1);
    assert.match(statements[0] ?? '', /= ANY\(\$1::text\[\]\)/);
  });

  test('numeric ids are stored as text and come back as numbers on the other instance\u2019s changes', async (t) => {
    const table = uniqueTable();
    const a = await fresh<{ id: number; v: number }, number>(t, { table });
    const b = await fresh<{ id: number; v: number }, number>(t, { table });
    const seen = firstMatching(b.changes, (id) => id === 42, 2000);
    await a.save({ id: 42, v: 1 });
    assert.equal(await seen, 42);
    assert.deepEqual(await b.get(42), { id: 42, v: 1 });
    const found = await b.getMany([42, 43]);
    assert.deepEqual([...found.keys()], [42]);
    const row = await pool.query(`SELECT id FROM "${table}"`);
    assert.equal(row.rows[0].id, '42');
  });

  test('an id too long for a NOTIFY payload makes other instances resync instead', async (t) => {
    const table = uniqueTable();
    const a = await fresh<ConformanceItem>(t, { table });
    const b = await fresh<ConformanceItem>(t, { table });
    const longId = '\u0001'.repeat(2048); // escapes to 6 bytes each in JSON: over 8000
    const resynced = firstMatching(b.resyncs, () => true, 2000);
    await a.save({ id: longId, v: 1 });
    await resynced;
    assert.deepEqual(await b.get(longId), { id: longId, v: 1 });
  });

  test('with createTable: false and no table, the store\u2019s error names the operation, the id and the cause', async (t) => {
    const backend = await fresh<Item>(t, { table: uniqueTable(), createTable: false });
    const store = new NexusStore<Item, string>({ backend, idOf: (item) => item.id });
    await assert.rejects(store.get("o'brien"), (error: unknown) => {
      assert.ok(error instanceof NexusStoreError);
      assert.equal(error.operation, 'get');
      assert.equal(error.id, "o'brien");
      assert.equal((error.cause as { code?: string }).code, '42P01');
      assert.match(error.message, /get\("o'brien"\) failed: relation .* does not exist/);
      return true;
    });
    await store.dispose();
  });

  test('a notification that is not ours is reported on errors and changes nothing', async (t) => {
    const backend = await fresh<Item>(t);
    const errors: Error[] = [];
    const changes: string[] = [];
    backend.errors.subscribe((error) => errors.push(error));
    backend.changes.subscribe((id) => changes.push(id));
    await pool.query('SELECT pg_notify($1, $2)', [backend.channel, 'not json']);
    await pool.query('SELECT pg_notify($1, $2)', [backend.channel, '{"v":99}']);
    await eventually(() => errors.length === 2, 2000, 'both reported');
    assert.match(errors[0]?.message ?? '', /ignored a malformed notification .*: not json/);
    assert.match(errors[1]?.message ?? '', /ignored a notification of unknown shape/);
    assert.deepEqual(changes, []);
  });

  test('with listen: false a backend holds no listening connection, yet its writes still reach listeners', async (t) => {
    const table = uniqueTable();
    const writer = await fresh<Item>(t, { table, listen: false });
    const reader = await fresh<Item>(t, { table });
    let state: ListenerState | undefined;
    writer.listenerState.subscribe((s) => (state = s));
    assert.equal(state, 'disabled');
    assert.equal(writer.listenerProcessId, undefined);
    const seen = firstMatching(reader.changes, (id) => id === 'quiet', 2000);
    await writer.save({ id: 'quiet', v: 1 });
    assert.equal(await seen, 'quiet');
  });

  test('close ends the listening connection but not the pool', async (t) => {
    const backend = await fresh<Item>(t);
    const pid = backend.listenerProcessId;
    assert.equal(typeof pid, 'number');
    const listening = async () =>
      (await pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0].n === 1;
    assert.equal(await listening(), true);
    await backend.close();
    await eventually(async () => !(await listening()), 2000, 'listener gone');
    assert.equal(backend.listenerProcessId, undefined);
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool still works');
    await assert.rejects(backend.save({ id: 'a', v: 1 }), { message: /closed PostgresBackend/ });
  });

  test('a killed listening connection reconnects; the store drops unpinned items and re-reads pinned ones', async (t) => {
    const table = uniqueTable();
    // The reconnection waits for the test's clock, so the gap in which notifications are lost is certain.
    const clock = new ManualClock();
    const backend = await fresh<Item>(t, { table, clock, reconnectInitialDelayMs: 50, healthCheckIntervalMs: 0 });
    const store = new NexusStore<Item, string>({ backend, idOf: (item) => item.id });
    t.after(() => store.dispose());
    await store.save({ id: 'pinned', v: 1 });
    await store.save({ id: 'plain', v: 1 });
    await store.pin('pinned');
    const errors: Error[] = [];
    backend.errors.subscribe((error) => errors.push(error));
    const oldPid = backend.listenerProcessId;

    const reconnecting = nextState(backend, 'reconnecting');
    await pool.query('SELECT pg_terminate_backend($1)', [oldPid]);
    await reconnecting;
    // Written while nobody listens: no store can hear of these.
    await pool.query(`UPDATE "${table}" SET data = jsonb_set(data, '{v}', '2')`);

    assert.deepEqual(store.peek('plain'), { id: 'plain', v: 1 }, 'nothing tells the store yet');

    const resynced = firstMatching(backend.resyncs, () => true, 5000);
    const listening = nextState(backend, 'listening');
    clock.advance(50);
    await listening;
    await resynced;
    assert.notEqual(backend.listenerProcessId, oldPid);
    assert.match(errors[0]?.message ?? '', /listening on .* failed/);

    assert.equal(store.peek('plain'), undefined, 'the unpinned copy was dropped');
    await eventually(() => store.peek('pinned')?.v === 2, 2000, 'pinned item re-read');
    assert.deepEqual(await store.get('plain'), { id: 'plain', v: 2 });

    // And notifications flow again on the new connection.
    const other = await fresh<Item>(t, { table });
    const heard = firstMatching(backend.changes, (id) => id === 'plain', 5000);
    await other.save({ id: 'plain', v: 3 });
    await heard;
    assert.equal(store.peek('plain'), undefined);
    assert.deepEqual(await store.get('plain'), { id: 'plain', v: 3 });
  });

  test('a listener that cannot connect retries with doubling, capped delays on the clock, and resyncs once through', async (t) => {
    const table = uniqueTable();
    const proxy = await TcpGate.start(PG_CONFIG.port as number);
    t.after(() => proxy.close());
    const clock = new ManualClock();
    const backend = new PostgresBackend<Item>({
      pool,
      table,
      listenerConfig: { ...PG_CONFIG, port: proxy.port },
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 400,
      healthCheckIntervalMs: 0,
      clock,
    });
    t.after(async () => {
      await backend.close();
      await dropTable(pool, table);
    });
    const errors: Error[] = [];
    backend.errors.subscribe((error) => errors.push(error));
    const resyncs: number[] = [];
    backend.resyncs.subscribe(() => resyncs.push(clock.now()));

    // Reads and writes go through the pool meanwhile.
    await backend.save({ id: 'a', v: 1 });
    assert.deepEqual(await backend.get('a'), { id: 'a', v: 1 });
    assert.equal(proxy.attempts, 1);
    assert.equal(errors.length, 1);

    for (const [attempt, delayMs] of [[2, 100], [3, 200], [4, 400], [5, 400]] as const) {
      clock.advance(delayMs - 1);
      // The back-off timer is the clock's only timer, and an attempt starts only when it fires.
      assert.equal(clock.pendingTimers, 1, `no attempt ${attempt} before ${delayMs} ms`);
      assert.equal(proxy.attempts, attempt - 1);
      const failed = firstMatching(backend.errors, () => true, 5000);
      clock.advance(1);
      assert.equal(clock.pendingTimers, 0, `attempt ${attempt} starts at ${delayMs} ms`);
      await failed;
      assert.equal(errors.length, attempt);
      assert.equal(proxy.attempts, attempt);
    }
    assert.equal(resyncs.length, 0);

    proxy.open = true;
    const listening = nextState(backend, 'listening');
    clock.advance(400);
    await listening;
    assert.deepEqual(resyncs, [clock.now()], 'one resync: changes may have been missed while it was away');
    assert.equal(typeof backend.listenerProcessId, 'number');
  });

  test('a connection attempt that hangs times out and is retried instead of stalling the listener forever', { timeout: 10_000 }, async (t) => {
    const table = uniqueTable();
    const proxy = await TcpGate.start(PG_CONFIG.port as number);
    proxy.blackHole = true;
    t.after(() => proxy.close());
    const backend = await fresh<Item>(t, {
      table,
      listenerConfig: { ...PG_CONFIG, port: proxy.port, connectionTimeoutMillis: 0 }, // 0: pg itself would wait forever
      listenerTimeoutMs: 150,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 20,
    });
    await eventually(() => proxy.attempts >= 3, 5000, 'attempts after timeouts');
    const resynced = firstMatching(backend.resyncs, () => true, 5000);
    proxy.open = true;
    await resynced;
    assert.equal(typeof backend.listenerProcessId, 'number');
  });

  test('a connection cut at the network level (no server-side notice) is noticed and recovered', async (t) => {
    const table = uniqueTable();
    const proxy = await TcpGate.start(PG_CONFIG.port as number);
    proxy.open = true;
    t.after(() => proxy.close());
    const backend = await fresh<Item>(t, { table, listenerConfig: { ...PG_CONFIG, port: proxy.port } });
    const resynced = firstMatching(backend.resyncs, () => true, 5000);
    proxy.cutAll();
    await resynced;
    assert.equal(proxy.attempts, 2);
    const writer = await fresh<Item>(t, { table });
    const seen = firstMatching(backend.changes, (id) => id === 'after-cut', 2000);
    await writer.save({ id: 'after-cut', v: 1 });
    assert.equal(await seen, 'after-cut');
  });

  test('a listening connection that silently stops answering fails its health check and is replaced', async (t) => {
    const table = uniqueTable();
    const proxy = await TcpGate.start(PG_CONFIG.port as number);
    proxy.open = true;
    t.after(() => proxy.close());
    const clock = new ClearWatchingClock();
    const backend = await fresh<Item>(t, {
      table,
      listenerConfig: { ...PG_CONFIG, port: proxy.port },
      healthCheckIntervalMs: 1000,
      reconnectInitialDelayMs: 100,
      clock,
    });
    const errors: Error[] = [];
    backend.errors.subscribe((error) => errors.push(error));

    const answered = clock.nextClear(); // an answered check clears its deadline
    clock.advance(1000); // a health check that passes
    await answered;
    assert.equal(errors.length, 0);
    assert.equal(proxy.attempts, 1);
    assert.equal(clock.pendingTimers, 1, 'the next check is scheduled');

    proxy.freezeAll();
    clock.advance(1000); // the next check is sent and gets no answer
    assert.equal(clock.pendingTimers, 1, 'its deadline waits');
    assert.equal(errors.length, 0);
    const resynced = firstMatching(backend.resyncs, () => true, 5000);
    clock.advance(1000); // its deadline passes
    assert.match(errors[0]?.message ?? '', /no answer to a health check within 1000 ms/);
    clock.advance(100); // the reconnection delay
    await resynced;
    assert.equal(proxy.attempts, 2);

    const writer = await fresh<Item>(t, { table });
    const seen = firstMatching(backend.changes, (id) => id === 'alive', 2000);
    await writer.save({ id: 'alive', v: 1 });
    assert.equal(await seen, 'alive');
  });

  test('hostile ids and values, including 1 MB, round-trip unchanged through a store', async (t) => {
    const backend = await fresh<ConformanceItem>(t);
    const store = new NexusStore<ConformanceItem, string>({ backend, idOf: (item) => item.id });
    t.after(() => store.dispose());
    for (const id of HOSTILE_IDS) await store.save(hostileValue(id));
    await store.save(megabyteValue('big "one" 😀'));
    await store.clearUnpinnedCache();
    for (const id of HOSTILE_IDS) assert.deepEqual(await store.get(id), hostileValue(id));
    assert.deepEqual(await store.get('big "one" 😀'), megabyteValue('big "one" 😀'));
    await store.clearUnpinnedCache();
    const found = await store.getMany([...HOSTILE_IDS, 'big "one" 😀']);
    assert.equal(found.size, HOSTILE_IDS.length + 1);
  });
});

/** A ManualClock that tells when a timer is cleared: a health check that got its answer clears its deadline. */
class ClearWatchingClock extends ManualClock {
  #waiters: Array<() => void> = [];

  override clearTimeout(handle: unknown): void {
    super.clearTimeout(handle);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  nextClear(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** A TCP forwarder to PostgreSQL that can refuse connections (`open = false`) and cut live ones. */
class TcpGate {
  open = false;
  /** When set (and not open), connections are accepted and then ignored: a black hole, not a refusal. */
  blackHole = false;
  attempts = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #pairs: Array<[Socket, Socket]> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<TcpGate> {
    const server: Server = createServer((socket) => {
      const self = gate;
      self.attempts++;
      if (!self.open) {
        if (self.blackHole) self.#sockets.add(socket);
        else socket.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      self.#sockets.add(socket).add(upstream);
      const drop = () => {
        socket.destroy();
        upstream.destroy();
        self.#sockets.delete(socket);
        self.#sockets.delete(upstream);
      };
      socket.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      socket.pipe(upstream).pipe(socket);
      self.#pairs.push([socket, upstream]);
    });
    const gate = new TcpGate(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops forwarding on every live connection without closing it: a link that silently went dead. */
  freezeAll(): void {
    for (const [client, server] of this.#pairs.splice(0)) {
      client.unpipe(server);
      server.unpipe(client);
      client.pause();
      server.pause();
    }
  }

  /** Destroys every live connection, as a network failure would. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** The store of another Node process, over the same table, driven through JSON lines. */
class PeerProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  #n = 0;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
  }

  static async start(table: string): Promise<PeerProcess> {
    const script = fileURLToPath(new URL('./fixtures/store-peer.ts', import.meta.url));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, table], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PeerProcess(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer process not ready within 30 s: ${stderr}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`peer process exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const message = JSON.parse(line) as Record<string, unknown>;
        if (message['ready'] === true) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const answer = peer.#waiting.get(message['n'] as number);
        peer.#waiting.delete(message['n'] as number);
        answer?.(message);
      });
    });
    await ready;
    return peer;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async request(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const n = ++this.#n;
    const answer = new Promise<Record<string, unknown>>((resolve) => this.#waiting.set(n, resolve));
    this.#child.stdin.write(`${JSON.stringify({ n, ...command })}\n`);
    const message = await answer;
    if (message['ok'] !== true) throw new Error(`peer failed: ${String(message['error'])}`);
    return message;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    if (this.#child.exitCode === null) {
      await this.request({ cmd: 'exit' }).catch(() => undefined);
      this.#child.stdin.end();
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

describe('NexusStore over PostgreSQL in two processes', { skip }, () => {
  test('a write in one process is seen by the other process\u2019s next read once its notification arrives, both ways', async (t) => {
    const table = uniqueTable('coherent');
    const backend = await fresh<Item>(t, { table });
    const store = new NexusStore<Item, string>({ backend, idOf: (item) => item.id });
    t.after(() => store.dispose());
    // Written before the other process listens, so no notification of it can reach that process late.
    await store.save({ id: 'x', v: 1 });
    const peer = await PeerProcess.start(table);
    t.after(() => peer.stop());
    assert.notEqual(peer.pid, process.pid);

    // The other process reads and caches x.
    assert.deepEqual((await peer.request({ cmd: 'get', id: 'x' }))['value'], { id: 'x', v: 1 });
    assert.equal((await peer.request({ cmd: 'get', id: 'x' }))['hit'], true, 'served from its cache');

    // This process writes; once the other process has heard of it, its next read is the new value.
    await store.save({ id: 'x', v: 2 });
    await peer.request({ cmd: 'awaitChange', id: 'x', count: 1 });
    const answer = await peer.request({ cmd: 'get', id: 'x' });
    assert.deepEqual(answer['value'], { id: 'x', v: 2 });
    assert.equal(answer['hit'], false, 'its stale copy was dropped');
    assert.deepEqual(store.peek('x'), { id: 'x', v: 2 }, 'the writer kept its own fresh copy');

    // The other way round, for a save and a delete.
    assert.deepEqual(await store.get('x'), { id: 'x', v: 2 });
    let heard = firstMatching(backend.changes, (id) => id === 'x', 10_000);
    await peer.request({ cmd: 'save', item: { id: 'x', v: 3 } });
    await heard;
    assert.deepEqual(await store.get('x'), { id: 'x', v: 3 });
    heard = firstMatching(backend.changes, (id) => id === 'x', 10_000);
    await peer.request({ cmd: 'delete', id: 'x' });
    await heard;
    assert.equal(await store.get('x'), undefined);
  });
});

/** A child process's JSON lines on stdout, awaited in order; a wait fails as soon as the child exits. */
class ChildLines {
  readonly #lines: Array<Record<string, unknown>> = [];
  readonly #waiters = new Set<() => void>();
  #cursor = 0;
  #exit: string | undefined;
  #stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams | ReturnType<typeof spawn>) {
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.#lines.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of this.#waiters) wake();
    });
    child.once('exit', (code, signal) => {
      this.#exit = `the child exited (code ${String(code)}, signal ${String(signal)})${this.#stderr === '' ? '' : `: ${this.#stderr}`}`;
      for (const wake of this.#waiters) wake();
    });
  }

  /** The next line after the previous match that satisfies `match`. */
  next(match: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (; this.#cursor < this.#lines.length; this.#cursor++) {
          const line = this.#lines[this.#cursor] as Record<string, unknown>;
          if (match(line)) {
            this.#cursor++;
            this.#waiters.delete(check);
            resolve(line);
            return;
          }
        }
        if (this.#exit !== undefined) {
          this.#waiters.delete(check);
          reject(new Error(`waiting for ${what}: ${this.#exit}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }
}

describe('PostgresBackend in a process that only listens', { skip }, () => {
  test('a child process waiting only on changes keeps running while its killed listening connection reconnects on the real clock, then delivers a change', async (t) => {
    const table = uniqueTable('listener');
    const writer = await fresh<Item>(t, { table });
    const script = fileURLToPath(new URL('./fixtures/listener-only.ts', import.meta.url));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, table], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const lines = new ChildLines(child);

    const first = await lines.next((line) => line['state'] === 'listening', 'the first LISTEN');
    await lines.next((line) => line['ready'] === true, 'ready');
    await pool.query('SELECT pg_terminate_backend($1)', [first['pid']]);
    await lines.next((line) => line['state'] === 'reconnecting', 'the lost connection');
    // Nothing but the back-off timer is left in the child now: unref'd, the process would end here.
    const second = await lines.next((line) => line['state'] === 'listening', 'the reconnection');
    assert.notEqual(second['pid'], first['pid']);

    await writer.save({ id: 'after-reconnect', v: 1 });
    await lines.next((line) => line['change'] === 'after-reconnect', 'the change');
    assert.equal(child.exitCode, null, 'still running');
  });
});
