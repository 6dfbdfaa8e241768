/**
 * The container signal: resident memory against the limit that gets the
 * process killed.
 *
 * In a memory cgroup with a limit, used = the cgroup's working set, usage
 * minus inactive file pages (what the kernel can drop without a fight), the
 * figure Kubernetes and cAdvisor compare with the limit; budget = the
 * effective limit (see cgroup.ts), capped at the machine's memory. Without
 * a limit (bare metal, or a container run without one), used = this
 * process's resident set and budget = the machine's memory.
 *
 * The budget under a limit keeps back a reserve (`collectorReserveBytes`,
 * by default 64 MiB, or a quarter of a smaller limit) for memory that is
 * already garbage but not yet given back: V8 lets external memory (the
 * backing stores of `Buffer`s and `ArrayBuffer`s) grow by 64 MiB past what
 * its last full collection left before it collects again, and until then
 * every evicted `Buffer` still counts in the working set. Measured against
 * the bare limit, a cache shedding at 0.8 of a 256 MiB limit had 50 MiB of
 * room for 64 MiB of uncollected garbage, and was OOM-killed after it shed.
 * Measured against the limit less the reserve, the thresholds mean what
 * they say: at `emergency` there is still room for one collector's lag.
 * The size is a trade: the survival cell at 192 MiB and 100 MB/s of 64 KiB
 * Buffer misses (bench/survival) kept a cache of about 76 MB with no
 * reserve, and was OOM-killed in one of two runs; about 40 MB with 48 MiB
 * (three runs of three lived, peak 90% of the limit); 25-30 MB with 64 MiB.
 *
 * Freed memory the allocator keeps: once collected, a `Buffer`'s memory
 * goes back to malloc, which keeps it for reuse instead of returning it to
 * the kernel, so the working set is a high-water mark that shedding never
 * lowers. Judged on it, a cache that once crossed a threshold stays there
 * and sheds everything (seen: 30 entries left at `emergency`, 200 MB of
 * idle allocator pages). So under a limit, used = the working set less this
 * process's idle allocator pages, estimated as the resident set less V8's
 * committed heap, its external memory and the smallest such remainder seen
 * (code, stacks and native state, which do not shrink). The estimate errs
 * high: an idle page it misses still counts as used. It costs one more
 * pread of /proc/self/statm and one v8.getHeapStatistics() (about 3.5 us
 * together), paid only while the working set is at least half the budget:
 * below that, idle pages cannot move it past a default threshold.
 *
 * Garbage a cache reported dropping: the reserve is for garbage to come,
 * but what is already garbage counts in the working set too, so a cache
 * that replaces entries was charged twice for its own garbage (held at
 * about 45 MB where half the limit, 96 MiB, lived; 0.82-0.89x its hit
 * ratio at 192 MiB). A `MemoryManager` over the Node monitor reports the
 * bytes it drops (`noteReleased`), and the monitor reports each full
 * collection; used leaves out the drops of the current and the previous
 * collection cycle, less the falls of V8's external memory seen since, no
 * more than external memory has risen over its lowest (so dropped heap
 * objects, whose pages V8 keeps, are not credited), and at most half the
 * reserve (the rest stays for the collector's next lag). Only half: V8's
 * lag after a cache sheds is more than its 64 MiB allowance, since its next
 * collection waits for external memory to grow that much past what the
 * last one left, garbage included. Tried at
 * 192 MiB with Buffer payloads (bench/survival, one run in each of four
 * cells): lending the whole of a 64 MiB reserve let the cache grow to
 * about 110 MB, with working-set peaks of 181-192 MiB and one OOM kill.
 * With half of the 48 MiB reserve, the recorded matrix (bench/RESULTS.md)
 * kept 0.87-0.99x the fixed budget's hit ratio in the worst of five runs
 * (0.82-0.89x before the credit), with peaks of 89-93% of the limit, and
 * one run of 40 was OOM-killed on a heavily loaded machine.
 *
 * Cost per sample: one pread of memory.current / memory.usage_in_bytes
 * (about 2-3 us), or of /proc/self/statm without a limit. memory.stat is
 * much dearer (10-20 us: the kernel flushes per-CPU counters to print it)
 * and its inactive_file moves slowly, so it is re-read at most every
 * `statRefreshMs`. The cgroup, the limit and the machine's total are
 * re-detected every `redetectIntervalMs` (limits can be resized in place),
 * checked against the clock on each sample; no timer.
 */
import { requireDurationMs } from '../checks.js';
import { clockOption, type Clock } from '../clock.js';
import type { MemorySample } from '../pressure/memory-state.js';
import { detectCgroups, readCgroupLimit, type MemoryCgroup } from './cgroup.js';
import { KeptOpenFile, readTextFile, type SyncFileSystem } from './kept-open-file.js';
import { asciiKey, parseKeyedValue, parseMeminfoBytes, parseSingleValue, parseUnsignedAt } from './parse.js';
import { underRoot } from './paths.js';
import { nodeFileSystem, nodeRuntime, type NodeRuntime, type V8Memory } from './runtime.js';
import { formatMiB, reading, sampleOf, type NodeSignal, type NodeSignalReading } from './signal.js';

export interface FileSignalOptions {
  /** Prefix of every absolute path read (/proc, /sys): a fixture tree in tests. Default '' (the real root). */
  root?: string;
  fs?: SyncFileSystem;
  runtime?: NodeRuntime;
  clock?: Clock;
  /** How often to re-detect cgroups, limits and file locations. Default 30000. */
  redetectIntervalMs?: number;
}

export interface ContainerSignalOptions extends FileSignalOptions {
  /** Re-read memory.stat (inactive file pages) at most this often; 0 reads it every sample. Default 0. */
  statRefreshMs?: number;
  /**
   * Bytes of a cgroup limit kept back for garbage not yet collected (see the
   * design note). Default 64 MiB; never more than a quarter of the limit.
   */
  collectorReserveBytes?: number;
}

/** V8's allowance for external memory between two full collections (kExternalAllocationSoftLimit). */
export const DEFAULT_COLLECTOR_RESERVE_BYTES = 64 * 1024 * 1024;

/**
 * The share of the collector reserve lent to garbage caches reported
 * dropping and no collection has freed yet (see the design note).
 */
const CREDIT_SHARE_OF_RESERVE = 0.5;

/** The share of the budget from which the working set is corrected for idle allocator pages. */
const IDLE_CHECK_FROM = 0.5;

/** The reserve kept back from a cgroup limit of `limitBytes`. */
export function collectorReserveFor(limitBytes: number, reserveBytes = DEFAULT_COLLECTOR_RESERVE_BYTES): number {
  return Math.min(reserveBytes, Math.floor(limitBytes / 4));
}

const MEM_TOTAL = asciiKey('MemTotal');
export const DEFAULT_REDETECT_INTERVAL_MS = 30_000;

export interface ResolvedFileOptions {
  root: string;
  fs: SyncFileSystem;
  runtime: NodeRuntime;
  clock: Clock;
  redetectIntervalMs: number;
}

export function resolveFileOptions(options: FileSignalOptions): ResolvedFileOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${String(options)}`);
  if (options.root !== undefined && typeof options.root !== 'string') throw new TypeError(`root must be a string path, got ${String(options.root)}`);
  return {
    root: options.root ?? '',
    fs: options.fs ?? nodeFileSystem,
    runtime: options.runtime ?? nodeRuntime,
    clock: clockOption(options.clock),
    redetectIntervalMs:
      options.redetectIntervalMs === undefined ? DEFAULT_REDETECT_INTERVAL_MS : requireDurationMs('redetectIntervalMs', options.redetectIntervalMs),
  };
}

/** The machine's memory: MemTotal from /proc/meminfo, else os.totalmem(). */
export function machineTotalBytes(fs: SyncFileSystem, root: string, runtime: NodeRuntime): number {
  const text = readTextFile(fs, underRoot(root, '/proc/meminfo'));
  if (text !== undefined) {
    const bytes = new TextEncoder().encode(text);
    const total = parseMeminfoBytes(bytes, bytes.length, MEM_TOTAL);
    if (total > 0) return total;
  }
  return runtime.totalMemoryBytes();
}

interface Detected {
  readonly cgroup: MemoryCgroup | undefined;
  readonly limitBytes: number | null;
  readonly budgetBytes: number;
  readonly reserveBytes: number;
  readonly usage: KeptOpenFile | undefined;
  readonly stat: KeptOpenFile | undefined;
  readonly inactiveKey: Uint8Array;
  readonly statm: KeptOpenFile;
  readonly pageBytes: number;
  readonly detail: string;
}

/** The page size, from the ratio of the resident set in bytes to /proc/self/statm's resident pages. */
function calibratePageBytes(statm: KeptOpenFile, runtime: NodeRuntime): number {
  const n = statm.read();
  if (n < 0) return 0;
  const firstSpace = statm.buffer.indexOf(0x20);
  const pages = firstSpace < 0 ? NaN : parseUnsignedAt(statm.buffer, n, firstSpace);
  const rss = runtime.residentSetBytes();
  if (!(pages > 0) || !(rss > 0)) return 0;
  const page = 2 ** Math.round(Math.log2(rss / pages));
  return page >= 4096 && page <= 1 << 21 ? page : 0;
}

export class ContainerSignal implements NodeSignal {
  readonly name = 'container' as const;
  readonly #options: ResolvedFileOptions;
  readonly #statRefreshMs: number;
  readonly #reserveBytes: number | undefined;
  /** The smallest resident set seen outside V8's heap and external memory: native code, stacks, buffers. */
  #nativeFloorBytes = Infinity;
  #floorCheckedAt = -Infinity;
  /** Reported drops since the last collection and in the cycle before, and V8's external memory when last seen (see #uncollectedCreditBytes). */
  #currentCycleBytes = 0;
  #previousCycleBytes = 0;
  #lastExternalBytes = NaN;
  /** The lowest external memory seen since the readings began (NaN: none seen). */
  #externalLowBytes = NaN;
  #detected: Detected | undefined;
  #detectedAt = 0;
  #inactiveBytes = 0;
  #statReadAt = -Infinity;
  /** The page size never changes: calibrated once (it costs a process.memoryUsage.rss()). */
  #pageBytes: number | undefined;

  constructor(options: ContainerSignalOptions = {}) {
    this.#options = resolveFileOptions(options);
    this.#statRefreshMs = options.statRefreshMs === undefined ? 0 : requireDurationMs('statRefreshMs', options.statRefreshMs, { allowZero: true });
    const reserve = options.collectorReserveBytes;
    if (reserve !== undefined && (typeof reserve !== 'number' || !Number.isSafeInteger(reserve) || reserve < 0)) {
      throw new RangeError(`collectorReserveBytes must be a non-negative whole number of bytes, got ${String(reserve)}`);
    }
    this.#reserveBytes = reserve;
  }

  /** The cgroup and limit in use (detected on first use and every redetectIntervalMs). */
  get cgroup(): { readonly cgroup: MemoryCgroup | undefined; readonly limitBytes: number | null; readonly reserveBytes: number } {
    const d = this.#ensureDetected();
    return { cgroup: d.cgroup, limitBytes: d.limitBytes, reserveBytes: d.reserveBytes };
  }

  read(): NodeSignalReading {
    const d = this.#ensureDetected();
    if (d.limitBytes !== null && d.usage !== undefined) {
      const n = d.usage.read();
      const usage = n < 0 ? NaN : parseSingleValue(d.usage.buffer, n);
      if (usage >= 0) {
        const workingSet = Math.max(0, usage - this.#inactive(d, usage));
        // Far from the budget the idle pages cannot change the level: skip their cost, but for
        // keeping the native floor current at the slow cadence (learnt late, it would be too high).
        let uncounted = 0;
        if (workingSet >= IDLE_CHECK_FROM * d.budgetBytes) uncounted = this.#uncountedBytes(d);
        else {
          this.#forgetReleased();
          if (this.#floorDue()) this.#idleAllocatorBytes(d);
        }
        return reading('container', 'cgroup', Math.max(0, workingSet - uncounted), d.budgetBytes, d.detail);
      }
    }
    return reading('container', 'resident', this.#resident(d), d.budgetBytes, d.detail);
  }

  sample(): MemorySample {
    return sampleOf(this.read());
  }

  close(): void {
    if (this.#detected === undefined) return;
    this.#detected.usage?.close();
    this.#detected.stat?.close();
    this.#detected.statm.close();
    this.#detected = undefined;
  }

  /** This process's resident pages that hold no live or collectable memory (see the design note). */
  #floorDue(): boolean {
    const now = this.#options.clock.now();
    if (now - this.#floorCheckedAt < this.#statRefreshMs && now >= this.#floorCheckedAt) return false;
    this.#floorCheckedAt = now;
    return true;
  }

  /** Idle allocator pages plus the collector's credit: resident bytes the level does not count (see the design note). */
  #uncountedBytes(d: Detected): number {
    const memory = this.#options.runtime.v8Memory?.();
    if (memory === undefined) return 0;
    return this.#idleAllocatorBytes(d, memory) + this.#uncollectedCreditBytes(d, memory);
  }

  #idleAllocatorBytes(d: Detected, memory = this.#options.runtime.v8Memory?.()): number {
    if (memory === undefined) return 0;
    const outside = this.#resident(d) - memory.heapCommittedBytes - memory.externalBytes;
    if (!(outside >= 0)) return 0;
    if (outside < this.#nativeFloorBytes) this.#nativeFloorBytes = outside;
    return outside - this.#nativeFloorBytes;
  }

  /**
   * Garbage caches reported dropping (noteReleased) that no collection has
   * freed yet: the drops since the last full collection, plus those of the
   * cycle before it less the falls of V8's external memory seen since (a
   * collection frees a cycle's drops, but what it marked before they were
   * dropped waits for the next one); older drops are taken as freed. Only
   * external memory is credited: at most its rise over the lowest it has
   * been since the readings began (what collections leave is live; a rise
   * over it is new payloads, as many bytes of garbage as new entries while
   * a full cache replaces them). A drop of heap objects is not credited: V8
   * keeps the heap's pages once it has them, so its garbage does not leave
   * the working set. (The lowest of the last two cycles alone was too high
   * where a collection freed little: the credit vanished at once and the
   * cache was cut to a quarter.) At most half the reserve. From the first
   * reading, before any collection is reported: V8's first full collection
   * came only once external memory reached about 165 MB (bench/survival,
   * 192 MiB, 30 MB/s of Buffer misses), and without the credit until then
   * the cache was cut to a quarter. A gap in the readings (below the
   * check) starts from nothing again.
   */
  #uncollectedCreditBytes(d: Detected, memory: V8Memory): number {
    const external = memory.externalBytes;
    this.#seeExternal(external);
    if (!(external >= 0)) return 0;
    const rise = external - this.#externalLowBytes;
    return Math.max(0, Math.min(d.reserveBytes * CREDIT_SHARE_OF_RESERVE, this.uncollectedReleasedBytes, rise));
  }

  /** A fall of external memory is a collection freeing drops: the older cycle's first. */
  #seeExternal(externalBytes: number): void {
    if (!(externalBytes >= 0)) return;
    const fall = this.#lastExternalBytes - externalBytes;
    if (fall > 0) {
      const fromPrevious = Math.min(this.#previousCycleBytes, fall);
      this.#previousCycleBytes -= fromPrevious;
      this.#currentCycleBytes = Math.max(0, this.#currentCycleBytes - (fall - fromPrevious));
    }
    this.#lastExternalBytes = externalBytes;
    if (!(externalBytes >= this.#externalLowBytes)) this.#externalLowBytes = externalBytes;
  }

  #forgetReleased(): void {
    this.#currentCycleBytes = 0;
    this.#previousCycleBytes = 0;
    this.#lastExternalBytes = NaN;
    this.#externalLowBytes = NaN;
  }

  /**
   * Bytes caches reported dropping in this collection cycle and the last:
   * what may still wait for a collection (see #uncollectedCreditBytes).
   */
  get uncollectedReleasedBytes(): number {
    return this.#previousCycleBytes + this.#currentCycleBytes;
  }

  /** Bytes a cache has just dropped: garbage until a collection frees them. */
  noteReleased(bytes: number): void {
    this.#currentCycleBytes += bytes;
  }

  /** A full collection has run (the Node monitor's collection observer calls this). */
  noteMajorCollection(): void {
    const memory = this.#options.runtime.v8Memory?.();
    if (memory !== undefined) this.#seeExternal(memory.externalBytes);
    this.#previousCycleBytes = this.#currentCycleBytes;
    this.#currentCycleBytes = 0;
  }

  #inactive(d: Detected, usage: number): number {
    if (d.stat === undefined) return 0;
    const now = this.#options.clock.now();
    if (now - this.#statReadAt >= this.#statRefreshMs || now < this.#statReadAt) {
      this.#statReadAt = now;
      const n = d.stat.read();
      const inactive = n < 0 ? NaN : parseKeyedValue(d.stat.buffer, n, d.inactiveKey);
      this.#inactiveBytes = inactive >= 0 ? inactive : 0;
    }
    return Math.min(this.#inactiveBytes, usage);
  }

  #resident(d: Detected): number {
    if (d.pageBytes > 0) {
      const n = d.statm.read();
      if (n > 0) {
        const firstSpace = d.statm.buffer.indexOf(0x20);
        const pages = firstSpace < 0 || firstSpace >= n ? NaN : parseUnsignedAt(d.statm.buffer, n, firstSpace);
        if (pages >= 0) return pages * d.pageBytes;
      }
    }
    return this.#options.runtime.residentSetBytes();
  }

  #ensureDetected(): Detected {
    const now = this.#options.clock.now();
    if (this.#detected !== undefined && now - this.#detectedAt < this.#options.redetectIntervalMs && now >= this.#detectedAt) {
      return this.#detected;
    }
    this.close();
    this.#detectedAt = now;
    this.#statReadAt = -Infinity;
    const { fs, root, runtime } = this.#options;
    const machine = machineTotalBytes(fs, root, runtime);
    const cgroup = detectCgroups(fs, root).memory;
    const limit = cgroup === undefined ? { limitBytes: null, limitFile: undefined } : readCgroupLimit(fs, cgroup);
    const statm = new KeptOpenFile(fs, underRoot(root, '/proc/self/statm'));
    const pageBytes = (this.#pageBytes ??= calibratePageBytes(statm, runtime));
    const limited = limit.limitBytes !== null;
    const limitBytes = limited ? Math.min(limit.limitBytes as number, machine) : machine;
    const reserveBytes = limited ? collectorReserveFor(limitBytes, this.#reserveBytes) : 0;
    const budgetBytes = limitBytes - reserveBytes;
    const detail = limited
      ? `cgroup v${cgroup?.version} working set vs ${formatMiB(budgetBytes)}: the ${formatMiB(limitBytes)} limit (${limit.limitFile}) less ${formatMiB(reserveBytes)} for uncollected garbage`
      : `process resident set vs machine ${formatMiB(machine)} (${cgroup === undefined ? 'no memory cgroup' : `cgroup v${cgroup.version} has no limit`})`;
    this.#detected = {
      cgroup,
      limitBytes: limited ? limitBytes : null,
      budgetBytes,
      reserveBytes,
      usage: cgroup === undefined ? undefined : new KeptOpenFile(fs, cgroup.usageFile),
      stat: cgroup === undefined ? undefined : new KeptOpenFile(fs, cgroup.statFile),
      inactiveKey: asciiKey(cgroup?.inactiveFileKey ?? 'inactive_file'),
      statm,
      pageBytes,
      detail,
    };
    return this.#detected;
  }
}
