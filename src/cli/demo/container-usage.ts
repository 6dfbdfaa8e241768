/**
 * The container's working set against its memory limit, as the workload
 * process sees it from inside its cgroup: usage less inactive file pages
 * (what Kubernetes and cAdvisor compare with the limit), read from the
 * cgroup's own files. It shows what the kernel counts: the heap, Buffers
 * and garbage not yet collected alike.
 *
 * The monitor's container signal measures something close but not equal
 * (it also leaves out the allocator's idle pages and keeps back a reserve
 * from the limit, see src/node/container-signal.ts), so the report shows
 * both: this raw figure against the limit, and the signal the caches obeyed.
 */
import type { MemoryCgroup } from '../../node/cgroup.js';
import { ContainerSignal } from '../../node/container-signal.js';
import { keyedNumber, readText } from '../container/memory-cgroup.js';

export class ContainerUsage {
  readonly limitBytes: number;
  readonly #cgroup: MemoryCgroup;

  private constructor(cgroup: MemoryCgroup, limitBytes: number) {
    this.#cgroup = cgroup;
    this.limitBytes = limitBytes;
  }

  /** This process's memory cgroup and its limit; undefined outside a cgroup with a limit. */
  static detect(): ContainerUsage | undefined {
    const signal = new ContainerSignal();
    try {
      const { cgroup, limitBytes } = signal.cgroup;
      return cgroup === undefined || limitBytes === null ? undefined : new ContainerUsage(cgroup, limitBytes);
    } finally {
      signal.close();
    }
  }

  /** The working set now: usage less inactive file pages. */
  workingSetBytes(): number {
    const usage = Number(readText(this.#cgroup.usageFile)?.trim() ?? Number.NaN);
    if (!Number.isFinite(usage)) return 0;
    const inactive = keyedNumber(readText(this.#cgroup.statFile), this.#cgroup.inactiveFileKey) ?? 0;
    return Math.max(0, usage - Math.min(inactive, usage));
  }
}
