import type { MemoryPressureLevel } from '../pressure-levels.js';

/** One reading from a memory provider. */
export interface MemorySample {
  usedBytes: number;
  availableBytes: number;
  /** Which signal produced it, e.g. 'heap', 'cgroup', 'system', 'psi'. */
  source?: string;
  /**
   * A provider that judges pressure itself (for example one that combines
   * several signals, each against its own thresholds) may state the level;
   * the monitor then publishes it instead of applying its own thresholds.
   */
  level?: MemoryPressureLevel;
}

export interface MemoryState {
  usedBytes: number;
  availableBytes: number;
  /** usedBytes / (usedBytes + availableBytes); 0 when the total is 0. */
  usage: number;
  level: MemoryPressureLevel;
  /** Which signal produced it, e.g. 'heap', 'cgroup', 'system', 'psi'. */
  source: string;
  /** Date.now() (of the monitor's clock) when the sample was taken. */
  at: number;
}

/** usedBytes / (usedBytes + availableBytes), 0 when the total is 0. */
export function usageOf(usedBytes: number, availableBytes: number): number {
  const total = usedBytes + availableBytes;
  return total > 0 ? usedBytes / total : 0;
}
