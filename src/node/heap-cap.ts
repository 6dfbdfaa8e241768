/**
 * Heap cap against container limit: a V8 heap allowed to grow past the
 * container's memory limit cannot run out of heap; the kernel's OOM killer
 * ends the process first, with no "heap out of memory" message and no
 * chance to shed. Node 20 in a 256 MiB cgroup sizes heap_size_limit at
 * about 259 MiB by default, and a `--max-old-space-size` copied from a
 * bigger machine is often far above the pod's limit.
 *
 * The comparison is V8's `heap_size_limit` (old plus young generation: the
 * most the heap may commit) against the cgroup's effective limit. The
 * suggested `--max-old-space-size` is the usual three quarters of what
 * remains once Node's own resident floor outside the heap is set aside:
 *
 *   fit = floor(0.75 x (limit - 48 MiB))
 *
 * 48 MiB covers what an idle Node 20 keeps resident outside the V8 heap
 * (the binary's code and data, libuv, ICU, thread stacks: about 40 MiB
 * measured). The quarter left over holds the young generation (up to
 * 3 x 16 MiB), Buffers and other external memory, and garbage not yet
 * collected. For 256 MiB that is 156 MiB; for 512 MiB, 348 MiB.
 */
const MIB = 1024 * 1024;

/** What Node keeps resident outside the V8 heap, set aside before the three quarters are taken. */
export const NODE_OUTSIDE_HEAP_BYTES = 48 * MIB;
const HEAP_SHARE = 0.75;
const LEAST_FIT_MB = 16;

/** The `--max-old-space-size` (MiB) that fits a container limit of `limitBytes` (see the design note). */
export function fittingMaxOldSpaceSizeMb(limitBytes: number): number {
  return Math.max(LEAST_FIT_MB, Math.floor((HEAP_SHARE * (limitBytes - NODE_OUTSIDE_HEAP_BYTES)) / MIB));
}

/** V8's heap limit is above the container's memory limit: the OOM killer, not V8, would end the process. */
export class HeapCapWarning extends Error {
  override readonly name = 'HeapCapWarning';
  /** `v8.getHeapStatistics().heap_size_limit`. */
  readonly heapSizeLimitBytes: number;
  /** The container's effective memory limit. */
  readonly containerLimitBytes: number;
  /** The `--max-old-space-size` that fits the limit, in MiB. */
  readonly suggestedMaxOldSpaceSizeMb: number;

  constructor(heapSizeLimitBytes: number, containerLimitBytes: number) {
    const suggested = fittingMaxOldSpaceSizeMb(containerLimitBytes);
    super(
      `V8's heap limit (${Math.round(heapSizeLimitBytes / MIB)} MiB) is above the container's memory limit ` +
        `(${Math.round(containerLimitBytes / MIB)} MiB): the kernel's OOM killer would end the process before V8 runs out of heap; ` +
        `start Node with --max-old-space-size=${suggested} to fit it`,
    );
    this.heapSizeLimitBytes = heapSizeLimitBytes;
    this.containerLimitBytes = containerLimitBytes;
    this.suggestedMaxOldSpaceSizeMb = suggested;
  }
}

/** The warning when `heapSizeLimitBytes` exceeds a container limit; undefined without a limit or when the heap fits. */
export function checkHeapCap(heapSizeLimitBytes: number, containerLimitBytes: number | null): HeapCapWarning | undefined {
  if (containerLimitBytes === null || !(heapSizeLimitBytes > containerLimitBytes)) return undefined;
  return new HeapCapWarning(heapSizeLimitBytes, containerLimitBytes);
}
