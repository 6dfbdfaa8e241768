/**
 * ResourceCleanupCoordinator: runs registered cleaners in priority order,
 * on request or when memory pressure changes.
 *
 * Structure
 * - Registrations live in one array kept sorted by (priority, registration
 *   order): `register` and `unregister` cost O(n) for n cleaners (a splice),
 *   a run costs O(n) plus the cleaners themselves. Cleaner counts are small
 *   (tens), so a plain array beats a heap or a tree here.
 * - Name and priority are read once, at `register`: a cleaner whose getters
 *   change later cannot reorder a run in progress.
 *
 * Runs
 * - Cleaners run one at a time, so their memory effects do not pile up and
 *   each result's `durationMs` is its own. Each gets a fresh `AbortSignal`
 *   and the run's context (`{ level }`: the level that triggered it, or
 *   `emergency` for a run asked for by hand without one), so a cleaner that
 *   can trim gives back what that level asks rather than everything.
 * - After `cleanerTimeoutMs` (timed on the injected clock) the signal is
 *   aborted, the cleaner is reported as timed out and the run moves on
 *   without waiting for it: a hung cleaner cannot stall memory relief. The
 *   timeout keeps the process alive (`keepAlive`): the caller is awaiting
 *   the run, and a process with nothing else to do must not exit before
 *   the timeout has fired and the rest of the run (the other cleaners, the
 *   results) has happened. An automatic run's timeouts do too, as a hand
 *   request may be waiting behind it; the cost is bounded by
 *   `cleanerTimeoutMs` per cleaner.
 *   (A cleaner that blocks synchronously cannot be interrupted by anything
 *   in JavaScript; its time is still measured and reported.)
 * - A cleaner that throws, rejects, times out or returns something that is
 *   not a valid `CleanupResult` yields `success: false` with the reason in
 *   `error`; nothing a cleaner does makes the coordinator throw.
 * - Garbage results: a returned value with any field of the wrong type
 *   (`bytesFreed` missing, negative, NaN or infinite; `success` not a
 *   boolean; `cleanerName` or `error` present but not strings) is refused as
 *   a whole (`bytesFreed: 0`), because a result that is wrong in one field
 *   cannot be trusted in the others. `cleanerName` and `durationMs` in a
 *   valid result are always the coordinator's: the registered name and the
 *   measured time.
 * - A cleaner removed with its unregister function while a run is waiting to
 *   reach it is skipped.
 *
 * No overlapping runs
 * - At most one run is in progress. Requests that arrive meanwhile (manual or
 *   automatic) are coalesced into one follow-up run whose scope is the widest
 *   requested and whose level is the highest requested (not the latest: the
 *   follow-up answers every coalesced caller, and one that asked for
 *   `emergency` must not be served a `moderate` trim); every one of those
 *   callers receives the follow-up's results.
 *   So a burst of pressure changes costs at most two runs, and a request
 *   never receives results of a run that started before it was made.
 *
 * Auto cleanup
 * - `enableAutoCleanup()` subscribes to `memoryMonitor.pressure`, which
 *   replays the current level, so enabling at a raised level acts at once.
 *   It acts only when the level differs from the last one it saw (never on
 *   every sample), running the scope the policy maps that level to, with
 *   that level in the cleaners' context.
 */
import { describeValue, isThenable, requireDurationMs } from '../checks.js';
import { clockOption, type Clock, type TimerHandle } from '../clock.js';
import { Subject, type Observable, type Subscription } from '../observable.js';
import { isMemoryPressureLevel, maxPressure, PRESSURE_LEVELS, type MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryPressureHandler } from '../pressure/monitor.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import { describeInvalidCleanupResult, reasonOf, type CleanupResult } from './cleanup-result.js';
import { CLEANUP_PRIORITIES, cleanupPriorityRank, isCleanupPriority, type CleanupPriority } from './priority.js';
import type { CleanupContext, ResourceCleaner } from './resource-cleaner.js';

/** For each pressure level, the widest priority to clean, or `null` for nothing. */
export type CleanupPolicy = Readonly<Record<MemoryPressureLevel, CleanupPriority | null>>;

/** The seed's policy: `normal` nothing, `moderate` up to `medium`, `critical` and `emergency` everything. */
export const DEFAULT_CLEANUP_POLICY: CleanupPolicy = Object.freeze({
  normal: null,
  moderate: 'medium',
  critical: 'high',
  emergency: 'high',
});

export interface ResourceCleanupCoordinatorOptions {
  /** Source of pressure changes for `enableAutoCleanup()`. */
  memoryMonitor?: MemoryPressureHandler;
  /** How long one cleaner may run before its signal is aborted and it is reported as timed out. Default 5000. */
  cleanerTimeoutMs?: number;
  /** Overrides of `DEFAULT_CLEANUP_POLICY`, per level: a priority, or `null` for no cleanup. */
  policy?: Partial<Record<MemoryPressureLevel, CleanupPriority | null>>;
  /** Times the per-cleaner timeouts and `durationMs`. Default: the library's default clock. */
  clock?: Clock;
  /** `recordCleanup(results)` after each run; `recordError` for a pressure stream that misbehaves. */
  telemetry?: MemoryTelemetry;
}

/** Options of a run requested by hand. */
export interface CleanupRunOptions {
  /** The level the run answers, passed to each cleaner. Default `'emergency'`. */
  level?: MemoryPressureLevel;
}

const DEFAULT_CLEANER_TIMEOUT_MS = 5000;
const HAND_RUN_LEVEL: MemoryPressureLevel = 'emergency';
const WIDEST_RANK = CLEANUP_PRIORITIES.length - 1;

interface Registration {
  readonly cleaner: ResourceCleaner;
  readonly name: string;
  readonly rank: number;
  active: boolean;
}

interface FollowUp {
  rank: number;
  level: MemoryPressureLevel;
  readonly promise: Promise<CleanupResult[]>;
  readonly resolve: (results: Promise<CleanupResult[]>) => void;
}

interface AutoCleanup {
  lastLevel: MemoryPressureLevel | undefined;
  subscription: Subscription | undefined;
}

function validatePolicy(policy: unknown): CleanupPolicy {
  if (policy === undefined) return DEFAULT_CLEANUP_POLICY;
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new TypeError(`policy must be an object mapping pressure levels to a priority or null, got ${describeValue(policy)}`);
  }
  const merged: Record<MemoryPressureLevel, CleanupPriority | null> = { ...DEFAULT_CLEANUP_POLICY };
  for (const [level, priority] of Object.entries(policy)) {
    if (!isMemoryPressureLevel(level)) {
      throw new RangeError(`policy keys must be one of ${PRESSURE_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    }
    // An explicit `undefined` (a spread of optional settings) means "keep the default".
    if (priority === undefined) continue;
    if (priority !== null && !isCleanupPriority(priority)) {
      throw new RangeError(`policy.${level} must be one of ${CLEANUP_PRIORITIES.join(', ')} or null, got ${describeValue(priority)}`);
    }
    merged[level] = priority;
  }
  return Object.freeze(merged);
}

/** The level of a run asked for by hand; a `TypeError`/`RangeError` naming the field for bad options. */
function runLevel(options: unknown): MemoryPressureLevel {
  if (options === undefined) return HAND_RUN_LEVEL;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object such as { level: 'moderate' }, got ${describeValue(options)}`);
  }
  const { level } = options as CleanupRunOptions;
  if (level === undefined) return HAND_RUN_LEVEL;
  if (!isMemoryPressureLevel(level)) {
    throw new RangeError(`options.level must be one of ${PRESSURE_LEVELS.join(', ')}, got ${describeValue(level)}`);
  }
  return level;
}

function validateMemoryMonitor(value: unknown): MemoryPressureHandler | undefined {
  if (value === undefined) return undefined;
  const pressure = typeof value === 'object' && value !== null ? (value as Partial<MemoryPressureHandler>).pressure : undefined;
  if (typeof pressure !== 'object' || pressure === null || typeof pressure.subscribe !== 'function') {
    throw new TypeError(`memoryMonitor must be a MemoryPressureHandler (an object with a pressure stream), got ${describeValue(value)}`);
  }
  return value as MemoryPressureHandler;
}

export class ResourceCleanupCoordinator {
  readonly #memoryMonitor: MemoryPressureHandler | undefined;
  readonly #timeoutMs: number;
  readonly #policy: CleanupPolicy;
  readonly #clock: Clock;
  readonly #telemetry: MemoryTelemetry | undefined;
  readonly #results = new Subject<CleanupResult[]>();
  /** Sorted by rank, then registration order. */
  #registrations: Registration[] = [];
  readonly #byCleaner = new Map<ResourceCleaner, Registration>();
  #running = false;
  #followUp: FollowUp | undefined;
  #auto: AutoCleanup | undefined;

  constructor(options: ResourceCleanupCoordinatorOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object, got ${describeValue(options)}`);
    }
    this.#memoryMonitor = validateMemoryMonitor(options.memoryMonitor);
    this.#timeoutMs = requireDurationMs('cleanerTimeoutMs', options.cleanerTimeoutMs ?? DEFAULT_CLEANER_TIMEOUT_MS);
    this.#policy = validatePolicy(options.policy);
    this.#clock = clockOption(options.clock);
    if (options.telemetry !== undefined && (typeof options.telemetry !== 'object' || options.telemetry === null)) {
      throw new TypeError(`telemetry must be a MemoryTelemetry object, got ${describeValue(options.telemetry)}`);
    }
    this.#telemetry = options.telemetry;
  }

  /** Each run's results, in run order, emitted once the run has finished. */
  get results(): Observable<CleanupResult[]> {
    return this.#results;
  }

  /** The policy in force: the defaults with the `policy` option applied. */
  get policy(): CleanupPolicy {
    return this.#policy;
  }

  get cleanerTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The registered cleaners, in the order a full run calls them. */
  get cleaners(): ResourceCleaner[] {
    return this.#registrations.map((registration) => registration.cleaner);
  }

  /** True while a run is in progress. */
  get isRunning(): boolean {
    return this.#running;
  }

  /** True between `enableAutoCleanup()` and the call of the function it returned. */
  get isAutoCleanupEnabled(): boolean {
    return this.#auto !== undefined;
  }

  /**
   * Adds a cleaner to every later run. Returns a function that removes it;
   * calling that function again does nothing.
   *
   * - `TypeError` when `name` is not a non-empty string or `cleanup` is not a function.
   * - `RangeError` when `priority` is not one of `CLEANUP_PRIORITIES`.
   * - `Error` when the same cleaner object is already registered.
   */
  register(cleaner: ResourceCleaner): () => void {
    if (typeof cleaner !== 'object' || cleaner === null) {
      throw new TypeError(`cleaner must be an object with name, priority and cleanup, got ${describeValue(cleaner)}`);
    }
    const { name, priority } = cleaner;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`cleaner.name must be a non-empty string, got ${describeValue(name)}`);
    }
    if (!isCleanupPriority(priority)) {
      throw new RangeError(`cleaner.priority of "${name}" must be one of ${CLEANUP_PRIORITIES.join(', ')}, got ${describeValue(priority)}`);
    }
    if (typeof cleaner.cleanup !== 'function') {
      throw new TypeError(`cleaner.cleanup of "${name}" must be a function, got ${describeValue(cleaner.cleanup)}`);
    }
    if (this.#byCleaner.has(cleaner)) {
      throw new Error(`cleaner "${name}" is already registered; unregister it before registering it again`);
    }
    const registration: Registration = { cleaner, name, rank: cleanupPriorityRank(priority), active: true };
    let index = this.#registrations.length;
    while (index > 0 && (this.#registrations[index - 1] as Registration).rank > registration.rank) index--;
    this.#registrations.splice(index, 0, registration);
    this.#byCleaner.set(cleaner, registration);
    return () => {
      if (!registration.active) return;
      registration.active = false;
      this.#byCleaner.delete(cleaner);
      const at = this.#registrations.indexOf(registration);
      if (at >= 0) this.#registrations.splice(at, 1);
    };
  }

  /**
   * Runs every cleaner, lowest priority first, telling each the level
   * `options.level` (default `'emergency'`). Never rejects for a cleaner's
   * failure; rejects with a `TypeError`/`RangeError` naming the field for
   * bad options.
   */
  cleanupAll(options?: CleanupRunOptions): Promise<CleanupResult[]> {
    let level: MemoryPressureLevel;
    try {
      level = runLevel(options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#request(WIDEST_RANK, level);
  }

  /**
   * Runs the cleaners whose priority is `<= priority`, lowest first, telling
   * each the level `options.level` (default `'emergency'`). Never rejects
   * for a cleaner's failure; rejects with a `RangeError` when `priority` is
   * not a `CleanupPriority`, and as `cleanupAll` for bad options.
   */
  cleanupUpTo(priority: CleanupPriority, options?: CleanupRunOptions): Promise<CleanupResult[]> {
    if (!isCleanupPriority(priority)) {
      return Promise.reject(new RangeError(`priority must be one of ${CLEANUP_PRIORITIES.join(', ')}, got ${describeValue(priority)}`));
    }
    let level: MemoryPressureLevel;
    try {
      level = runLevel(options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#request(cleanupPriorityRank(priority), level);
  }

  /**
   * Cleans automatically when `memoryMonitor`'s pressure level changes,
   * per the policy; at once if the level is already raised. Calling it again
   * while enabled keeps the one subscription. Returns a function that
   * disables it (idempotent).
   *
   * A `TypeError` when the coordinator was built without `memoryMonitor`.
   */
  enableAutoCleanup(): () => void {
    const monitor = this.#memoryMonitor;
    if (monitor === undefined) {
      throw new TypeError('enableAutoCleanup() needs the memoryMonitor option: new ResourceCleanupCoordinator({ memoryMonitor })');
    }
    let auto = this.#auto;
    if (auto === undefined) {
      const created: AutoCleanup = { lastLevel: undefined, subscription: undefined };
      auto = created;
      this.#auto = created;
      created.subscription = monitor.pressure.subscribe({
        next: (level) => this.#onLevel(created, level),
        error: (error) => this.#reportError(new Error(`memoryMonitor.pressure failed: ${reasonOf(error)}`, { cause: error })),
      });
      // A handler whose stream does not replay its level still gets the
      // "already raised" case right.
      if (created.lastLevel === undefined && this.#auto === created && typeof monitor.currentPressure === 'function') {
        let level: unknown;
        try {
          level = monitor.currentPressure();
        } catch (error) {
          this.#reportError(new Error(`memoryMonitor.currentPressure() threw: ${reasonOf(error)}`, { cause: error }));
        }
        if (level !== undefined) this.#onLevel(created, level);
      }
    }
    const enabled = auto;
    return () => {
      if (this.#auto !== enabled) return;
      this.#auto = undefined;
      enabled.subscription?.unsubscribe();
    };
  }

  #onLevel(auto: AutoCleanup, level: unknown): void {
    if (this.#auto !== auto) return;
    if (!isMemoryPressureLevel(level)) {
      this.#reportError(new RangeError(`memoryMonitor.pressure emitted ${describeValue(level)}, not one of ${PRESSURE_LEVELS.join(', ')}`));
      return;
    }
    if (level === auto.lastLevel) return;
    auto.lastLevel = level;
    const scope = this.#policy[level];
    if (scope !== null) void this.#request(cleanupPriorityRank(scope), level);
  }

  #reportError(error: Error): void {
    safeRecord(this.#telemetry?.recordError, this.#telemetry, error);
  }

  #request(rank: number, level: MemoryPressureLevel): Promise<CleanupResult[]> {
    if (!this.#running) return this.#start(rank, level);
    const pending = this.#followUp;
    if (pending !== undefined) {
      pending.rank = Math.max(pending.rank, rank);
      pending.level = maxPressure(pending.level, level);
      return pending.promise;
    }
    let resolve!: (results: Promise<CleanupResult[]>) => void;
    const promise = new Promise<CleanupResult[]>((r) => {
      resolve = r;
    });
    this.#followUp = { rank, level, promise, resolve };
    return promise;
  }

  #start(rank: number, level: MemoryPressureLevel): Promise<CleanupResult[]> {
    // Marked running before the first cleaner is called, so a cleaner that
    // requests a cleanup synchronously gets a follow-up, not an overlap.
    this.#running = true;
    return this.#run(rank, level).then((results) => {
      this.#results.next(results);
      safeRecord(this.#telemetry?.recordCleanup, this.#telemetry, results);
      this.#running = false;
      const next = this.#followUp;
      this.#followUp = undefined;
      if (next !== undefined) next.resolve(this.#start(next.rank, next.level));
      return results;
    });
  }

  async #run(rank: number, level: MemoryPressureLevel): Promise<CleanupResult[]> {
    const selected = this.#registrations.filter((registration) => registration.rank <= rank);
    // One frozen context per run: a cleaner cannot change what the next one is told.
    const context: CleanupContext = Object.freeze({ level });
    const results: CleanupResult[] = [];
    for (const registration of selected) {
      if (!registration.active) continue;
      try {
        results.push(await this.#runOne(registration, context));
      } catch (error) {
        // Only a broken injected clock gets here; the run must still finish.
        results.push({ cleanerName: registration.name, bytesFreed: 0, success: false, error: `could not be run: ${reasonOf(error)}`, durationMs: 0 });
      }
    }
    return results;
  }

  #runOne(registration: Registration, context: CleanupContext): Promise<CleanupResult> | CleanupResult {
    const clock = this.#clock;
    const startedAt = clock.now();
    const elapsed = () => Math.max(0, clock.now() - startedAt);
    const failure = (error: string): CleanupResult => ({
      cleanerName: registration.name,
      bytesFreed: 0,
      success: false,
      error,
      durationMs: elapsed(),
    });
    const controller = new AbortController();
    let outcome: unknown;
    try {
      outcome = registration.cleaner.cleanup(controller.signal, context);
    } catch (error) {
      return failure(`threw: ${reasonOf(error)}`);
    }
    if (!isThenable(outcome)) return this.#accept(registration, outcome, elapsed());
    return new Promise<CleanupResult>((resolve) => {
      let settled = false;
      const timer: TimerHandle = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        const message = `timed out after ${this.#timeoutMs} ms`;
        resolve(failure(message));
        controller.abort(new DOMException(`cleaner "${registration.name}" ${message}`, 'TimeoutError'));
      }, this.#timeoutMs, { keepAlive: true });
      // Promise.resolve adopts any thenable, turning a `then` that throws into a rejection.
      Promise.resolve(outcome).then(
        (value) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          resolve(this.#accept(registration, value, elapsed()));
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          resolve(failure(`rejected: ${reasonOf(error)}`));
        },
      );
    });
  }

  #accept(registration: Registration, value: unknown, durationMs: number): CleanupResult {
    // Each field is read once, into a snapshot, so a getter cannot pass
    // validation with one value and deliver another.
    let reported: Partial<Record<keyof CleanupResult, unknown>> | undefined;
    let problem: string | undefined;
    try {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const { cleanerName, bytesFreed, success, error } = value as Record<string, unknown>;
        reported = { cleanerName, bytesFreed, success, error };
      }
      problem = describeInvalidCleanupResult(reported ?? value);
    } catch (error) {
      problem = `reading it threw: ${reasonOf(error)}`;
    }
    if (problem !== undefined || reported === undefined) {
      return { cleanerName: registration.name, bytesFreed: 0, success: false, error: `returned an invalid result: ${problem ?? 'unreadable'}`, durationMs };
    }
    const success = reported.success as boolean;
    const result: CleanupResult = { cleanerName: registration.name, bytesFreed: reported.bytesFreed as number, success, durationMs };
    if (typeof reported.error === 'string') result.error = reported.error;
    else if (!success) result.error = 'reported failure without a reason';
    return result;
  }
}
