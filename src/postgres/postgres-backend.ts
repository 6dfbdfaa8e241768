/**
 * PostgresBackend: a `Backend` over one PostgreSQL table, with changes made
 * by other processes published on `changes` through LISTEN/NOTIFY.
 *
 * Storage
 * - One row per item: `<idColumn> text PRIMARY KEY, <dataColumn> jsonb NOT NULL`,
 *   created on first use when missing (`createTable: false` to manage it yourself).
 * - Ids are strings or finite numbers, stored as text (`String(id)`), so `1`
 *   and `"1"` name the same row: ids are one type per backend (the first id
 *   it is given fixes it; the other type is refused), and an id in another
 *   process's notification is converted to it. Strings must be well-formed
 *   UTF-16 without U+0000 and at most 2048 UTF-8 bytes (a btree key must fit
 *   in an index page).
 * - Items are JSON, checked before they are sent: a value JSON would change
 *   (a `Date`, `Map`, `NaN`, an `undefined` field, a class instance, ...) is
 *   refused with an error naming the field, unless a `codec` turns it into
 *   plain JSON and back (see `json-codec.ts`). `save` resolves to the item
 *   as a read returns it (decoded from the JSON it sent), which is what the
 *   store caches. `jsonb` does not keep object key order.
 * - Every statement is parameterized; identifiers (table, optionally
 *   schema-qualified, columns, channel) are validated and quoted.
 * - `get` is one query, `getMany` one query for all ids (`= ANY($1::text[])`),
 *   `save` and `delete` one statement each that also calls `pg_notify`, so
 *   the notification is sent exactly when the write commits.
 *
 * Coherence across processes
 * - A write sends `{"v":1,"o":<origin>,"id":<id>}` on the channel: ids, never
 *   items, since a NOTIFY payload must stay under 8000 bytes (an id too long
 *   for that sends `{"all":true}` instead, which receivers treat as a resync).
 * - The default channel is `<schema>_<table>_changes` with the schema
 *   resolved (`current_schema()`, or the schema where the table was found)
 *   when `table` has none, so `t` and `public.t` hear each other.
 * - `origin` is random per backend instance. A backend ignores its own
 *   notifications: the store that wrote already holds the fresh item, and
 *   dropping it would cost a needless re-read. Other instances, in this
 *   process or another, do see the change. Hence one backend per store.
 * - Except for a write whose outcome it does not know: one that failed on
 *   the client (a timeout, a lost connection) but may commit on the server.
 *   Each notification carries the write's sequence number `w`; those of
 *   such writes are published on `changes` like anyone else's, so a copy
 *   read meanwhile is dropped when the write lands. (At most
 *   `MAX_UNCERTAIN_WRITES` are remembered; a write the server refused with
 *   an error is known not to have committed and is not remembered.)
 * - The listening connection is a dedicated `pg.Client` (built from the
 *   pool's options), not a pool connection: LISTEN is per session. When it
 *   drops, it is reconnected with exponential backoff through the `Clock`,
 *   and because notifications sent during the gap are lost, every successful
 *   reconnection emits on `resyncs`: the store then drops its unpinned items
 *   and re-reads the pinned ones instead of serving possibly stale data.
 *   The back-off timer keeps the process alive, as the connection it
 *   replaces did: a process that only listens (waiting on `changes`) keeps
 *   waiting through a reconnection instead of exiting; `close()` ends it.
 *   A periodic `SELECT 1` on that connection notices a silently dead link.
 * - Reads and writes wait for the first LISTEN attempt, so a store never
 *   caches data fetched before it could hear about changes to it.
 *
 * `close()` ends the listening connection; the pool stays the caller's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, Notification, Pool } from 'pg';
import { requireDurationMs } from '../checks.js';
import { clockOption } from '../clock.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Subject, ValueSubject } from '../observable.js';
import type { Observable } from '../observable.js';
import type { Backend } from '../store/backend.js';
import { assertIdentifier, defaultChannel, parseTableName, quoteIdentifier } from './identifiers.js';
import type { TableName } from './identifiers.js';
import { assertCodec, strictJsonCodec, toStrictJson } from './json-codec.js';
import type { JsonCodec } from './json-codec.js';

/** Ids the PostgreSQL backend can store: text keys. */
export type PostgresId = string | number;

/** Where the listening connection is. */
export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'closed' | 'disabled';

export interface PostgresBackendOptions<T, ID extends PostgresId> {
  /** The application's pool: every read and write goes through it. */
  pool: Pool;
  /** Table name, optionally schema-qualified: `"items"` or `"app.items"`. */
  table: string;
  /** Column holding the id (text primary key). Default `"id"`. */
  idColumn?: string;
  /** Column holding the item (jsonb). Default `"data"`. */
  dataColumn?: string;
  /**
   * NOTIFY channel. Default `<schema>_<table>_changes`, the schema resolved
   * on the server when `table` has none; every process sharing the table
   * must use the same one.
   */
  channel?: string;
  /**
   * Turns items into plain JSON and back, for values JSON cannot carry
   * (`Date`, `Map`, class instances, ...). Default: none, and such values are
   * refused with an error naming the field. What `encode` returns is checked
   * the same way.
   */
  codec?: JsonCodec<T>;
  /** The id of an item. Default: its `id` property. */
  idOf?: (item: T) => ID;
  /** Create the table when missing. Default true. */
  createTable?: boolean;
  /** Listen for other processes' changes. Default true; false publishes nothing on `changes`. */
  listen?: boolean;
  /** Connection settings of the listening client. Default: the pool's own options. */
  listenerConfig?: ClientConfig;
  /**
   * Connect and query timeout of the listening client, in ms. Default 10000.
   * An attempt that hung would never fail, so no next attempt would be scheduled.
   */
  listenerTimeoutMs?: number;
  /** First reconnection delay of the listener, in ms. Default 100. */
  reconnectInitialDelayMs?: number;
  /** Ceiling of the doubling reconnection delay, in ms. Default 5000. */
  reconnectMaxDelayMs?: number;
  /** Interval of the listener's liveness query, in ms; 0 disables it. Default 30000. */
  healthCheckIntervalMs?: number;
  /** Timer source for reconnection and health checks. Default: the process-wide default clock. */
  clock?: Clock;
}

const MAX_ID_BYTES = 2048;
const MAX_PAYLOAD_BYTES = 7999;
/** Writes of unknown outcome remembered at most (the oldest is forgotten first). */
export const MAX_UNCERTAIN_WRITES = 10_000;

interface ChangePayload {
  v: 1;
  /** The writing backend's `originId`. */
  o: string;
  /** The write's sequence number in its backend. */
  w?: number;
  id?: PostgresId;
  all?: true;
}

const RESOLVE_SCHEMA =
  'SELECT coalesce((SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
  'WHERE c.oid = pg_catalog.to_regclass($1)), pg_catalog.current_schema()) AS schema';

/**
 * Whether a failed write surely did not commit: the server answered with an
 * error (the statement, hence its implicit transaction, was rolled back).
 * A timeout or a lost connection leaves the outcome unknown.
 */
function failedForSure(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.severity === 'ERROR';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The text key of an id; a `TypeError`/`RangeError` naming the id for anything PostgreSQL cannot key on. */
export function idToText(id: unknown, field = 'id'): string {
  if (typeof id === 'number') {
    if (!Number.isFinite(id)) throw new RangeError(`${field} must be a string or a finite number, got ${String(id)}`);
    return String(id);
  }
  if (typeof id !== 'string') {
    throw new TypeError(`${field} must be a string or a finite number, got ${id === null ? 'null' : typeof id}`);
  }
  if (id.includes('\u0000')) throw new RangeError(`${field} must not contain U+0000 (PostgreSQL text cannot hold it)`);
  if (LONE_SURROGATE.test(id)) throw new RangeError(`${field} must be well-formed UTF-16 (it contains a lone surrogate)`);
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_ID_BYTES) throw new RangeError(`${field} must be at most ${MAX_ID_BYTES} UTF-8 bytes, got ${bytes}`);
  return id;
}

export function isDuplicateCreation(error: unknown): boolean {
  // Two sessions racing on CREATE TABLE IF NOT EXISTS: the loser may see the table
  // (42P07 duplicate_table), the table's row type (42710 duplicate_object: 'type ...
  // already exists') or the catalog's unique index (23505). Each means the winner created it.
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42P07' || code === '42710' || code === '23505';
}

export class PostgresBackend<T, ID extends PostgresId = string> implements Backend<T, ID> {
  readonly #pool: Pool;
  readonly #table: TableName;
  /** Known from the options, or once the table's schema is resolved. */
  #channel: string | undefined;
  #channelReady: Promise<string> | undefined;
  readonly #idOf: (item: T) => ID;
  readonly #codec: JsonCodec<T>;
  #idType: 'string' | 'number' | undefined;
  #writeSeq = 0;
  /** Sequence numbers of this backend's writes that failed on the client but may still commit. */
  readonly #uncertain = new Set<number>();
  readonly #createTable: boolean;
  readonly #listen: boolean;
  readonly #listenerConfig: ClientConfig;
  readonly #reconnectInitialDelayMs: number;
  readonly #reconnectMaxDelayMs: number;
  readonly #healthCheckIntervalMs: number;
  readonly #listenerTimeoutMs: number;
  readonly #clock: Clock;
  readonly #sql: { readonly create: string; readonly get: string; readonly getMany: string; readonly save: string; readonly delete: string };

  readonly #changes = new Subject<ID>();
  readonly #resyncs = new Subject<void>();
  readonly #errors = new Subject<Error>();
  readonly #state: ValueSubject<ListenerState>;

  #tableReady: Promise<void> | undefined;
  #firstListen: Promise<void>;
  #client: pg.Client | undefined;
  #listenerPid: number | undefined;
  #attempts = 0;
  #timer: TimerHandle | undefined;
  #healthTimer: TimerHandle | undefined;
  #closed = false;

  /** This instance's origin id in notifications; its own are ignored. */
  readonly originId: string = randomUUID();
  /** Ids written or deleted through other backend instances (other processes, or other instances here). */
  readonly changes: Observable<ID> = this.#changes.asObservable();
  /** Emits after the listening connection is re-established: notifications may have been lost meanwhile. */
  readonly resyncs: Observable<void> = this.#resyncs.asObservable();
  /** Listener failures (lost connection, failed reconnection, malformed notification); the data calls reject on their own. */
  readonly errors: Observable<Error> = this.#errors.asObservable();

  constructor(options: PostgresBackendOptions<T, ID>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`PostgresBackend options must be an object with pool and table, got ${options === null ? 'null' : typeof options}`);
    }
    const { pool } = options;
    if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function') {
      throw new TypeError('pool must be a pg.Pool (an object with query)');
    }
    this.#table = parseTableName(options.table);
    const idColumn = options.idColumn ?? 'id';
    const dataColumn = options.dataColumn ?? 'data';
    assertIdentifier(idColumn, 'idColumn');
    assertIdentifier(dataColumn, 'dataColumn');
    if (idColumn === dataColumn) throw new RangeError(`idColumn and dataColumn must differ, both are ${JSON.stringify(idColumn)}`);
    const schema = this.#table.schema;
    const channel = options.channel ?? (schema === undefined ? undefined : defaultChannel({ schema, name: this.#table.name }));
    if (channel !== undefined) assertIdentifier(channel, 'channel');
    if (options.codec !== undefined) assertCodec(options.codec);
    if (options.idOf !== undefined && typeof options.idOf !== 'function') {
      throw new TypeError(`idOf must be a function, got ${typeof options.idOf}`);
    }
    for (const flag of ['createTable', 'listen'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
        throw new TypeError(`${flag} must be a boolean, got ${typeof options[flag]}`);
      }
    }
    this.#reconnectInitialDelayMs = requireDurationMs('reconnectInitialDelayMs', options.reconnectInitialDelayMs ?? 100);
    this.#reconnectMaxDelayMs = requireDurationMs('reconnectMaxDelayMs', options.reconnectMaxDelayMs ?? 5000);
    if (this.#reconnectMaxDelayMs < this.#reconnectInitialDelayMs) {
      throw new RangeError(
        `reconnectMaxDelayMs (${this.#reconnectMaxDelayMs}) must be >= reconnectInitialDelayMs (${this.#reconnectInitialDelayMs})`,
      );
    }
    this.#healthCheckIntervalMs = requireDurationMs('healthCheckIntervalMs', options.healthCheckIntervalMs ?? 30_000, { allowZero: true });
    this.#listenerTimeoutMs = requireDurationMs('listenerTimeoutMs', options.listenerTimeoutMs ?? 10_000);
    const clock = clockOption(options.clock);

    this.#pool = pool;
    this.#channel = channel;
    this.#idOf = options.idOf ?? ((item: T) => (item as { id?: ID } | null)?.id as ID);
    this.#codec = options.codec ?? (strictJsonCodec as JsonCodec<T>);
    this.#createTable = options.createTable ?? true;
    this.#listen = options.listen ?? true;
    this.#listenerConfig = options.listenerConfig ?? (pool as { options?: ClientConfig }).options ?? {};
    this.#clock = clock;

    const t = this.#table.sql;
    const id = quoteIdentifier(idColumn);
    const data = quoteIdentifier(dataColumn);
    this.#sql = {
      create: `CREATE TABLE IF NOT EXISTS ${t} (${id} text PRIMARY KEY, ${data} jsonb NOT NULL)`,
      get: `SELECT ${data}::text AS data FROM ${t} WHERE ${id} = $1`,
      getMany: `SELECT ${id} AS id, ${data}::text AS data FROM ${t} WHERE ${id} = ANY($1::text[])`,
      save:
        `WITH written AS (INSERT INTO ${t} (${id}, ${data}) VALUES ($1, $2::jsonb) ` +
        `ON CONFLICT (${id}) DO UPDATE SET ${data} = EXCLUDED.${data}) SELECT pg_notify($3, $4)`,
      delete: `WITH removed AS (DELETE FROM ${t} WHERE ${id} = $1) SELECT pg_notify($2, $3)`,
    };

    this.#state = new ValueSubject<ListenerState>(this.#listen ? 'connecting' : 'disabled');
    this.#firstListen = this.#listen ? this.#connectListener() : Promise.resolve();
  }

  /** The table as quoted in SQL, e.g. `"app"."items"`. */
  get table(): string {
    return this.#table.sql;
  }

  /**
   * The NOTIFY channel in use. `undefined` until `ready()` resolves when it
   * is derived from a table without a schema (the server resolves that).
   */
  get channel(): string | undefined {
    return this.#channel;
  }

  /** The listening connection's state: the current one on subscribe, then every change. */
  get listenerState(): Observable<ListenerState> {
    return this.#state.asObservable();
  }

  /** The server process id of the listening connection while listening (for monitoring, or `pg_terminate_backend` in tests). */
  get listenerProcessId(): number | undefined {
    return this.#listenerPid;
  }

  /**
   * Resolves once the table exists, the channel is known and the first
   * LISTEN attempt has settled; rejects when the table cannot be created or
   * its schema cannot be resolved (the next call tries again).
   */
  async ready(): Promise<void> {
    this.#assertOpen('ready');
    await this.#firstListen;
    await this.#prepare();
  }

  async get(id: ID): Promise<T | undefined> {
    const key = this.#key(id, 'id');
    await this.ready();
    const result = await this.#pool.query<{ data: string }>(this.#sql.get, [key]);
    const row = result.rows[0];
    return row === undefined ? undefined : this.#codec.decode(JSON.parse(row.data));
  }

  async getMany(ids: readonly ID[]): Promise<Map<ID, T>> {
    if (!Array.isArray(ids)) throw new TypeError(`ids must be an array, got ${typeof ids}`);
    const byKey = new Map<string, ID>();
    ids.forEach((id, i) => byKey.set(this.#key(id, `ids[${i}]`), id));
    const found = new Map<ID, T>();
    await this.ready();
    if (byKey.size === 0) return found;
    const result = await this.#pool.query<{ id: string; data: string }>(this.#sql.getMany, [[...byKey.keys()]]);
    for (const row of result.rows) {
      const id = byKey.get(row.id);
      if (id !== undefined) found.set(id, this.#codec.decode(JSON.parse(row.data)));
    }
    return found;
  }

  /**
   * Writes the item; resolves to it as a read will return it (decoded afresh
   * from the JSON sent, never the caller's object). Refuses, before any
   * query, an item that JSON (after the codec) would not carry unchanged,
   * naming the field.
   */
  async save(item: T): Promise<T> {
    const id = this.#idOf(item);
    const key = this.#key(id, 'idOf(item)');
    const json = toStrictJson(this.#codec.encode(item), 'item');
    // Decoded before writing: a codec that cannot read back what it wrote fails here, not on every later read.
    const stored = this.#codec.decode(JSON.parse(json));
    await this.ready();
    await this.#write(this.#sql.save, [key, json], id);
    return stored;
  }

  async delete(id: ID): Promise<void> {
    const key = this.#key(id, 'id');
    await this.ready();
    await this.#write(this.#sql.delete, [key], id);
  }

  /** Stops listening and ends the listening connection; later calls reject. The pool is left open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#healthTimer !== undefined) this.#clock.clearTimeout(this.#healthTimer);
    this.#timer = this.#healthTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#listenerPid = undefined;
    if (this.#listen) this.#state.next('closed');
    if (client !== undefined) await client.end().catch(() => undefined);
    this.#changes.complete();
    this.#resyncs.complete();
    this.#errors.complete();
    this.#state.complete();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new Error(`nexus-store/postgres: ${operation}() called on a closed PostgresBackend (${this.#table.sql})`);
  }

  /** The text key of `id`, fixing this backend's id type on first use and refusing the other type after. */
  #key(id: unknown, field: string): string {
    const key = idToText(id, field);
    const type = typeof id as 'string' | 'number';
    if (this.#idType === undefined) this.#idType = type;
    else if (type !== this.#idType) {
      throw new TypeError(
        `${field} ${type === 'string' ? JSON.stringify(id) : key} is a ${type}, but this backend's ids are ${this.#idType}s ` +
          `(1 and "1" name one row: one id type per backend)`,
      );
    }
    return key;
  }

  /** One write statement (its last two parameters: the channel and the payload). */
  async #write(sql: string, values: unknown[], id: ID): Promise<void> {
    const seq = ++this.#writeSeq;
    try {
      await this.#pool.query(sql, [...values, this.#channel, this.#payload(id, seq)]);
    } catch (error) {
      if (this.#listen && !failedForSure(error)) {
        // It may still commit: then its notification must reach the store like anyone else's.
        this.#uncertain.add(seq);
        if (this.#uncertain.size > MAX_UNCERTAIN_WRITES) this.#uncertain.delete(this.#uncertain.values().next().value as number);
      }
      throw error;
    }
  }

  #payload(id: ID, seq: number): string {
    const payload = JSON.stringify({ v: 1, o: this.originId, w: seq, id } satisfies ChangePayload);
    if (Buffer.byteLength(payload, 'utf8') <= MAX_PAYLOAD_BYTES) return payload;
    return JSON.stringify({ v: 1, o: this.originId, w: seq, all: true } satisfies ChangePayload);
  }

  /** The table exists (when we create it) and the channel is known. */
  async #prepare(): Promise<string> {
    await this.#ensureTable();
    return this.#channel ?? this.#resolveChannel();
  }

  /** The default channel of a table named without a schema: the schema it resolves to on the server. */
  #resolveChannel(): Promise<string> {
    this.#channelReady ??= this.#pool.query<{ schema: string | null }>(RESOLVE_SCHEMA, [this.#table.sql]).then(
      (result) => {
        const schema = result.rows[0]?.schema;
        if (typeof schema !== 'string') {
          throw new Error(`nexus-store/postgres: cannot resolve the schema of table ${this.#table.sql}: no such table and no current schema (search_path)`);
        }
        this.#channel ??= defaultChannel({ schema, name: this.#table.name });
        return this.#channel;
      },
      (error: unknown) => {
        this.#channelReady = undefined;
        throw error;
      },
    );
    return this.#channelReady;
  }

  #ensureTable(): Promise<void> {
    if (!this.#createTable) return Promise.resolve();
    this.#tableReady ??= this.#pool.query(this.#sql.create).then(
      () => undefined,
      (error: unknown) => {
        if (isDuplicateCreation(error)) return;
        // Not cached: the next call tries again.
        this.#tableReady = undefined;
        throw error;
      },
    );
    return this.#tableReady;
  }

  /** One attempt to open the listening connection; on failure, the next one is scheduled. Never rejects. */
  async #connectListener(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    let channel: string;
    try {
      channel = this.#channel ?? (await this.#prepare());
    } catch (error) {
      this.#retryListening(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#closed) return;
    // Bounded connect and query times: an attempt that hung would never fail, so the next one would never be scheduled.
    const client = new pg.Client({
      ...this.#listenerConfig,
      connectionTimeoutMillis: this.#listenerTimeoutMs,
      query_timeout: this.#listenerTimeoutMs,
      keepAlive: true,
    });
    let lost = false;
    const onLost = (error: Error) => {
      if (lost) return;
      lost = true;
      this.#listenerLost(client, error);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the listening connection ended')));
    client.on('notification', (message) => this.#onNotification(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (lost) return;
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#listenerPid = pid.rows[0]?.pid;
      this.#attempts = 0;
      // After a gap (a lost connection, or a first attempt that failed while calls went ahead) changes may be lost.
      const missedSome = this.#state.value === 'reconnecting';
      this.#state.next('listening');
      this.#scheduleHealthCheck(client);
      if (missedSome) this.#resyncs.next();
    } catch (error) {
      if (!lost) {
        lost = true;
        this.#listenerLost(client, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  #listenerLost(client: pg.Client, cause: Error): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#listenerPid = undefined;
    }
    if (this.#healthTimer !== undefined) {
      this.#clock.clearTimeout(this.#healthTimer);
      this.#healthTimer = undefined;
    }
    client.end().catch(() => undefined);
    this.#retryListening(cause);
  }

  /** Reports the failure and schedules the next attempt after the back-off. */
  #retryListening(cause: Error): void {
    if (this.#closed) return;
    this.#errors.next(new Error(`nexus-store/postgres: listening on ${this.#channel ?? this.#table.sql} failed: ${cause.message}`, { cause }));
    this.#state.next('reconnecting');
    const delayMs = Math.min(this.#reconnectMaxDelayMs, this.#reconnectInitialDelayMs * 2 ** this.#attempts);
    this.#attempts = Math.min(this.#attempts + 1, 30);
    const timer: unknown = this.#clock.setTimeout(() => void this.#connectListener(), delayMs);
    // Clock timers are unref'd, but this one stands in for the listening connection, which kept the
    // process alive: a process waiting only on `changes` must not exit while it reconnects. close() clears it.
    if (typeof timer === 'object' && timer !== null && typeof (timer as { ref?: unknown }).ref === 'function') {
      (timer as { ref(): unknown }).ref();
    }
    this.#timer = timer;
  }

  /** Every interval, `SELECT 1` on the listening connection; no answer within another interval counts as a lost connection. */
  #scheduleHealthCheck(client: pg.Client): void {
    if (this.#healthCheckIntervalMs === 0) return;
    this.#healthTimer = this.#clock.setTimeout(() => {
      this.#healthTimer = undefined;
      if (this.#closed || this.#client !== client) return;
      const deadline = this.#clock.setTimeout(() => {
        client.emit('error', new Error(`no answer to a health check within ${this.#healthCheckIntervalMs} ms`));
      }, this.#healthCheckIntervalMs);
      client.query('SELECT 1').then(
        () => {
          this.#clock.clearTimeout(deadline);
          if (this.#client === client && !this.#closed) this.#scheduleHealthCheck(client);
        },
        (error: unknown) => {
          this.#clock.clearTimeout(deadline);
          client.emit('error', error instanceof Error ? error : new Error(String(error)));
        },
      );
    }, this.#healthCheckIntervalMs);
  }

  #onNotification(message: Notification): void {
    if (message.channel !== this.#channel || this.#closed) return;
    let payload: ChangePayload;
    try {
      payload = JSON.parse(message.payload ?? '') as ChangePayload;
    } catch {
      this.#errors.next(new Error(`nexus-store/postgres: ignored a malformed notification on ${this.#channel}: ${String(message.payload).slice(0, 200)}`));
      return;
    }
    if (typeof payload !== 'object' || payload === null || payload.v !== 1 || typeof payload.o !== 'string') {
      this.#errors.next(new Error(`nexus-store/postgres: ignored a notification of unknown shape on ${this.#channel}: ${String(message.payload).slice(0, 200)}`));
      return;
    }
    // Our own write is news only when we did not learn its outcome: it failed on our side, yet committed.
    if (payload.o === this.originId && !(typeof payload.w === 'number' && this.#uncertain.delete(payload.w))) return;
    if (payload.all === true) this.#resyncs.next();
    else if (typeof payload.id === 'string' || typeof payload.id === 'number') {
      const id = this.#asOurId(payload.id);
      if (id !== undefined) this.#changes.next(id);
    }
  }

  /** A notified id in this backend's id type (another process may use the other one); undefined when no id of ours has that text. */
  #asOurId(id: string | number): ID | undefined {
    if (this.#idType === 'string' && typeof id === 'number') return String(id) as ID;
    if (this.#idType === 'number' && typeof id === 'string') {
      const n = Number(id);
      return id !== '' && String(n) === id ? (n as ID) : undefined;
    }
    return id as ID;
  }
}
