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
import { readFileSync } from 'node:fs';
import { ContainerSignal } from '../../node/container-signal.js';
import type { MemoryCgroup } from '../../node/cgroup.js';

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

function readKeyed(path: string, key: string): number {
  try {
    const line = readFileSync(path, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line === undefined ? Number.NaN : Number(line.slice(key.length + 1));
  } catch {
    return Number.NaN;
  }
}

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
    const usage = readNumber(this.#cgroup.usageFile);
    if (!Number.isFinite(usage)) return 0;
    const inactive = readKeyed(this.#cgroup.statFile, this.#cgroup.inactiveFileKey);
    return Math.max(0, usage - (Number.isFinite(inactive) ? Math.min(inactive, usage) : 0));
  }
}
