/**
 * The V8 heap signal: what predicts "JavaScript heap out of memory".
 *
 * V8 dies for one of two reasons, both about the old generation, never the
 * young one:
 * - "Reached heap limit": an allocation cannot fit under the old
 *   generation's maximum (`--max-old-space-size`);
 * - "Ineffective mark-compacts near heap limit": four full collections in a
 *   row leave at least 80% of that maximum live while the mutator gets less
 *   than 40% of the time (V8's `Heap::CheckIneffectiveMarkCompact`,
 *   kHighHeapPercentage = 0.8, kLowMutatorUtilization = 0.4).
 *
 * `heap_size_limit` is the wrong denominator: it adds the young generation's
 * reserve (three semi-spaces, 48 MiB on a 64-bit Node 20 whatever the old
 * cap), so with --max-old-space-size=96 a process dies with used_heap_size
 * at about 0.62-0.66 of it, and a signal over it never looks urgent.
 *
 * So: used = bytes in every old-generation space (old, code, large-object,
 * map/trusted/shared where the V8 version has them; everything but
 * new_space and new_large_object_space), and budget = 0.8 x the old
 * generation's maximum, the line past which V8 may abort at any full GC.
 * A fraction of 1 means "V8 may give up now"; the defaults fire well before.
 * Used includes garbage not yet collected, so the signal errs early, never
 * late, and V8 keeps that slack small near the limit (its next-GC limit is
 * at most halfway from the live size to the maximum).
 *
 * The maximum is not exposed by any API, so it is resolved in this order:
 * an explicit option; a Worker's resourceLimits; --max-old-space-size in
 * execArgv or NODE_OPTIONS; heap_size_limit minus three
 * --max-semi-space-size; else V8's own default sizing inverted (young =
 * 3 semi-spaces of old/128, or old/256 up to 256 MiB, clamped to 1..16 MiB).
 *
 * Under a container limit the old generation cannot really grow to its
 * maximum when that is above the limit (Node 20 sizes the heap at 259 MiB
 * in a 192 or 256 MiB cgroup; a `--max-old-space-size` copied from a bigger
 * machine is often far above it): the kernel kills the process first. So
 * the maximum this signal measures against is the lesser of V8's and the
 * container's limit less what Node keeps resident outside the heap
 * (`NODE_OUTSIDE_HEAP_BYTES`, see heap-cap.ts). Without it the heap signal
 * never fired there, and the container signal alone had to guard a heap
 * whose garbage grows, between two full collections, by a share of what
 * the last one left (1.4 times it and more under a high cap) rather than
 * by V8's 64 MiB allowance for external memory, which its reserve covers:
 * one run in five was OOM-killed at 384 MiB with on-heap payloads and
 * `--max-old-space-size=768` (bench/survival). The heap signal follows
 * the heap's own rhythm instead: it samples after each full collection
 * and tells the cache's garbage from growth (see HeapEpisode).
 *
 * Cost: one v8.getHeapSpaceStatistics() per sample: about 1 us here, the
 * same order as v8.getHeapStatistics() (see bench/RESULTS.md), and the only
 * way to leave the young generation out. heap_size_limit is read once.
 */
import type { MemorySample } from '../pressure/memory-state.js';
import { NODE_OUTSIDE_HEAP_BYTES } from './heap-cap.js';
import { nodeRuntime, type NodeRuntime } from './runtime.js';
import { formatMiB, reading, sampleOf, type NodeSignal, type NodeSignalReading } from './signal.js';

const MIB = 1024 * 1024;
/** V8's kHighHeapPercentage: past it, ineffective mark-compacts abort the process. */
export const V8_GIVE_UP_FRACTION = 0.8;

export interface HeapSignalOptions {
  runtime?: NodeRuntime;
  /** The old generation's maximum, when known better than the flags tell (embedders, custom isolates). */
  maxOldGenerationBytes?: number;
  /** Fraction of the old-generation maximum used as the budget. Default 0.8, V8's give-up line. */
  giveUpFraction?: number;
}

export interface OldGenerationLimit {
  readonly bytes: number;
  /** How it was found: 'option', 'worker resourceLimits', '--max-old-space-size', '--max-semi-space-size', 'V8 default sizing'. */
  readonly from: string;
}

function flagValue(flags: readonly string[], names: readonly string[]): number | undefined {
  let value: number | undefined;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] as string;
    for (const name of names) {
      let text: string | undefined;
      if (flag.startsWith(`${name}=`)) text = flag.slice(name.length + 1);
      else if (flag === name) text = flags[i + 1];
      if (text !== undefined && /^\d+(\.\d+)?$/.test(text)) {
        const parsed = Number(text);
        if (parsed > 0) value = parsed; // the last occurrence wins, as in V8
      }
    }
  }
  return value;
}

function flagNames(base: string): string[] {
  return [`--${base}`, `--${base.replaceAll('-', '_')}`];
}

const PAGE = 256 * 1024;
const roundUpToPage = (bytes: number) => Math.ceil(bytes / PAGE) * PAGE;

/** V8's young-generation size for an old generation of `oldBytes` (64-bit, no pointer compression, as Node ships). */
export function v8DefaultYoungGenerationBytes(oldBytes: number): number {
  const ratio = oldBytes <= 256 * MIB ? 256 : 128;
  const semi = roundUpToPage(Math.min(16 * MIB, Math.max(1 * MIB, oldBytes / ratio)));
  return 3 * semi;
}

/** The largest old generation that V8's default sizing would pair with `heapSizeLimitBytes`. */
export function invertV8DefaultSizing(heapSizeLimitBytes: number): number {
  // V8 sizes the old generation in whole pages; search page counts.
  let lo = 0;
  let hi = Math.floor(heapSizeLimitBytes / PAGE);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (mid * PAGE + v8DefaultYoungGenerationBytes(mid * PAGE) <= heapSizeLimitBytes) lo = mid;
    else hi = mid - 1;
  }
  return lo * PAGE;
}

/** Where the old generation's maximum is, and how we know. */
export function resolveOldGenerationLimit(runtime: NodeRuntime, explicitBytes?: number): OldGenerationLimit {
  if (explicitBytes !== undefined) return { bytes: explicitBytes, from: 'option' };
  const heapSizeLimit = runtime.heapSizeLimitBytes();
  const workerMb = runtime.workerMaxOldGenerationSizeMb();
  if (workerMb !== undefined) return { bytes: workerMb * MIB, from: 'worker resourceLimits' };
  const flags = runtime.v8Flags();
  const oldMb = flagValue(flags, flagNames('max-old-space-size'));
  // A flag that does not fit under heap_size_limit was not the one V8 applied.
  if (oldMb !== undefined && oldMb * MIB < heapSizeLimit) return { bytes: oldMb * MIB, from: '--max-old-space-size' };
  const semiMb = flagValue(flags, flagNames('max-semi-space-size'));
  if (semiMb !== undefined && heapSizeLimit - 3 * semiMb * MIB > 0) {
    return { bytes: heapSizeLimit - 3 * semiMb * MIB, from: '--max-semi-space-size' };
  }
  return { bytes: invertV8DefaultSizing(heapSizeLimit), from: 'V8 default sizing' };
}

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

export class HeapSignal implements NodeSignal {
  readonly name = 'heap' as const;
  readonly #runtime: NodeRuntime;
  readonly #limit: OldGenerationLimit;
  readonly #giveUpFraction: number;
  readonly #ownDetail: string;
  #budgetBytes: number;
  #detail: string;
  /** The container limit the budget was last fitted to (null: none). */
  #containerLimitBytes: number | null = null;

  constructor(options: HeapSignalOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${String(options)}`);
    const { maxOldGenerationBytes, giveUpFraction = V8_GIVE_UP_FRACTION } = options;
    if (maxOldGenerationBytes !== undefined && (typeof maxOldGenerationBytes !== 'number' || !Number.isFinite(maxOldGenerationBytes) || maxOldGenerationBytes <= 0)) {
      throw new RangeError(`maxOldGenerationBytes must be a positive finite number, got ${String(maxOldGenerationBytes)}`);
    }
    if (typeof giveUpFraction !== 'number' || !(giveUpFraction > 0 && giveUpFraction <= 1)) {
      throw new RangeError(`giveUpFraction must be in (0, 1], got ${String(giveUpFraction)}`);
    }
    this.#runtime = options.runtime ?? nodeRuntime;
    this.#limit = resolveOldGenerationLimit(this.#runtime, maxOldGenerationBytes);
    this.#giveUpFraction = giveUpFraction;
    this.#budgetBytes = this.#limit.bytes * giveUpFraction;
    this.#ownDetail = `old generation vs ${giveUpFraction} x ${formatMiB(this.#limit.bytes)} (from ${this.#limit.from})`;
    this.#detail = this.#ownDetail;
  }

  /**
   * Measures against at most the container's limit less what Node keeps
   * resident outside the heap (see the design note); null: no limit, V8's
   * maximum alone. Cheap when the limit has not changed.
   */
  fitContainer(containerLimitBytes: number | null): void {
    if (containerLimitBytes === this.#containerLimitBytes) return;
    this.#containerLimitBytes = containerLimitBytes;
    const fitted = containerLimitBytes === null ? Infinity : containerLimitBytes - NODE_OUTSIDE_HEAP_BYTES;
    if (!(fitted > 0) || fitted >= this.#limit.bytes) {
      this.#budgetBytes = this.#limit.bytes * this.#giveUpFraction;
      this.#detail = this.#ownDetail;
      return;
    }
    this.#budgetBytes = fitted * this.#giveUpFraction;
    this.#detail =
      `old generation vs ${this.#giveUpFraction} x ${formatMiB(fitted)}: the container's ${formatMiB(containerLimitBytes as number)} limit ` +
      `less ${formatMiB(NODE_OUTSIDE_HEAP_BYTES)} outside the heap, under V8's ${formatMiB(this.#limit.bytes)} (from ${this.#limit.from})`;
  }

  /** The old generation's maximum this signal measures against. */
  get oldGenerationLimit(): OldGenerationLimit {
    return this.#limit;
  }

  /** Old-generation bytes at which V8 may give up, or, under a container limit below V8's, the container kills. */
  get budgetBytes(): number {
    return this.#budgetBytes;
  }

  read(): NodeSignalReading {
    let used = 0;
    for (const space of this.#runtime.heapSpaces()) {
      if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
    }
    return reading('heap', 'heap', used, this.#budgetBytes, this.#detail);
  }

  sample(): MemorySample {
    return sampleOf(this.read());
  }

  close(): void {
    // Nothing kept open.
  }
}
