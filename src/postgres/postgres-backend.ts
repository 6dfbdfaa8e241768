/**
 * PostgresBackend: a `Backend` over one PostgreSQL table, with changes made
 * by other processes published on `changes` through LISTEN/NOTIFY.
 *
 * Storage
 * - One row per item: `<idColumn> text PRIMARY KEY, <dataColumn> jsonb NOT NULL`,
 *   created on first use when missing (`createTable: false` to manage it yourself).
 * - Ids are strings or finite numbers, stored as text (`String(id)`), so `1`
 *   and `"1"` name the same row; use one id type per table. Strings must be
 *   well-formed UTF-16 without U+0000 and at most 2048 UTF-8 bytes (a btree
 *   key must fit in an index page).
 * - Items are JSON: what `JSON.stringify` keeps survives; `jsonb` does not
 *   keep object key order, and rejects U+0000 inside strings.
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
 * - `origin` is random per backend instance. A backend ignores its own
 *   notifications: the store that wrote already holds the fresh item, and
 *   dropping it would cost a needless re-read. Other instances, in this
 *   process or another, do see the change. Hence one backend per store.
 * - The listening connection is a dedicated `pg.Client` (built from the
 *   pool's options), not a pool connection: LISTEN is per session. When it
 *   drops, it is reconnected with exponential backoff through the `Clock`,
 *   and because notifications sent during the gap are lost, every successful
 *   reconnection emits on `resyncs`: the store then drops its unpinned items
 *   and re-reads the pinned ones instead of serving possibly stale data.
 *   A periodic `SELECT 1` on that connection notices a silently dead link.
 * - Reads and writes wait for the first LISTEN attempt, so a store never
 *   caches data fetched before it could hear about changes to it.
 *
 * `close()` ends the listening connection; the pool stays the caller's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, Notification, Pool } from 'pg';
import { getDefaultClock } from '../clock.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Subject, ValueSubject } from '../observable.js';
import type { Observable } from '../observable.js';
import type { Backend } from '../store/backend.js';
import { assertIdentifier, defaultChannel, parseTableName, quoteIdentifier } from './identifiers.js';
import type { TableName } from './identifiers.js';

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
  /** NOTIFY channel. Default `<schema>_<table>_changes`; every process sharing the table must use the same one. */
  channel?: string;
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

interface ChangePayload {
  v: 1;
  o: string;
  id?: PostgresId;
  all?: true;
}

function assertPositiveMs(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${field} must be a finite number ${allowZero ? '>= 0' : '> 0'} (milliseconds), got ${String(value)}`);
  }
  return value;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// `\u0000` in JSON text, not preceded by an odd run of backslashes (which would make it literal text).
const JSON_NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

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
  readonly #channel: string;
  readonly #idOf: (item: T) => ID;
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
    const channel = options.channel ?? defaultChannel(this.#table);
    assertIdentifier(channel, 'channel');
    if (options.idOf !== undefined && typeof options.idOf !== 'function') {
      throw new TypeError(`idOf must be a function, got ${typeof options.idOf}`);
    }
    for (const flag of ['createTable', 'listen'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
        throw new TypeError(`${flag} must be a boolean, got ${typeof options[flag]}`);
      }
    }
    this.#reconnectInitialDelayMs = assertPositiveMs(options.reconnectInitialDelayMs ?? 100, 'reconnectInitialDelayMs');
    this.#reconnectMaxDelayMs = assertPositiveMs(options.reconnectMaxDelayMs ?? 5000, 'reconnectMaxDelayMs');
    if (this.#reconnectMaxDelayMs < this.#reconnectInitialDelayMs) {
      throw new RangeError(
        `reconnectMaxDelayMs (${this.#reconnectMaxDelayMs}) must be >= reconnectInitialDelayMs (${this.#reconnectInitialDelayMs})`,
      );
    }
    this.#healthCheckIntervalMs = assertPositiveMs(options.healthCheckIntervalMs ?? 30_000, 'healthCheckIntervalMs', true);
    this.#listenerTimeoutMs = assertPositiveMs(options.listenerTimeoutMs ?? 10_000, 'listenerTimeoutMs');
    const clock = options.clock ?? getDefaultClock();
    if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function') {
      throw new TypeError('clock must be a Clock (now, setTimeout, clearTimeout)');
    }

    this.#pool = pool;
    this.#channel = channel;
    this.#idOf = options.idOf ?? ((item: T) => (item as { id?: ID } | null)?.id as ID);
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

  /** The NOTIFY channel in use. */
  get channel(): string {
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

  /** Resolves once the table exists and the first LISTEN attempt has settled; rejects when the table cannot be created. */
  async ready(): Promise<void> {
    this.#assertOpen('ready');
    await this.#firstListen;
    await this.#ensureTable();
  }

  async get(id: ID): Promise<T | undefined> {
    const key = idToText(id);
    await this.ready();
    const result = await this.#pool.query<{ data: string }>(this.#sql.get, [key]);
    const row = result.rows[0];
    return row === undefined ? undefined : (JSON.parse(row.data) as T);
  }

  async getMany(ids: readonly ID[]): Promise<Map<ID, T>> {
    if (!Array.isArray(ids)) throw new TypeError(`ids must be an array, got ${typeof ids}`);
    const byKey = new Map<string, ID>();
    ids.forEach((id, i) => byKey.set(idToText(id, `ids[${i}]`), id));
    const found = new Map<ID, T>();
    await this.ready();
    if (byKey.size === 0) return found;
    const result = await this.#pool.query<{ id: string; data: string }>(this.#sql.getMany, [[...byKey.keys()]]);
    for (const row of result.rows) {
      const id = byKey.get(row.id);
      if (id !== undefined) found.set(id, JSON.parse(row.data) as T);
    }
    return found;
  }

  async save(item: T): Promise<void> {
    const id = this.#idOf(item);
    const key = idToText(id, 'idOf(item)');
    const json = JSON.stringify(item);
    if (typeof json !== 'string') {
      throw new TypeError(`save(${JSON.stringify(key)}): the item must be JSON-serializable, JSON.stringify gave ${typeof json}`);
    }
    if (JSON_NUL_ESCAPE.test(json)) {
      throw new RangeError(`save(${JSON.stringify(key)}): strings in the item must not contain U+0000 (jsonb cannot hold it)`);
    }
    await this.ready();
    await this.#pool.query(this.#sql.save, [key, json, this.#channel, this.#payload(id)]);
  }

  async delete(id: ID): Promise<void> {
    const key = idToText(id);
    await this.ready();
    await this.#pool.query(this.#sql.delete, [key, this.#channel, this.#payload(id)]);
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

  #payload(id: ID): string {
    const payload = JSON.stringify({ v: 1, o: this.originId, id } satisfies ChangePayload);
    if (Buffer.byteLength(payload, 'utf8') <= MAX_PAYLOAD_BYTES) return payload;
    return JSON.stringify({ v: 1, o: this.originId, all: true } satisfies ChangePayload);
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
      await client.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
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
    if (this.#closed) return;
    this.#errors.next(new Error(`nexus-store/postgres: listening on ${this.#channel} failed: ${cause.message}`, { cause }));
    this.#state.next('reconnecting');
    const delayMs = Math.min(this.#reconnectMaxDelayMs, this.#reconnectInitialDelayMs * 2 ** this.#attempts);
    this.#attempts = Math.min(this.#attempts + 1, 30);
    this.#timer = this.#clock.setTimeout(() => void this.#connectListener(), delayMs);
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
    if (payload.o === this.originId) return;
    if (payload.all === true) this.#resyncs.next();
    else if (typeof payload.id === 'string' || typeof payload.id === 'number') this.#changes.next(payload.id as ID);
  }
}
