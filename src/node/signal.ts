/**
 * What every Node signal reports: a value against its own budget.
 *
 * Signals differ in what they measure (V8 old-generation bytes, a cgroup's
 * working set, the machine's available memory, the share of time tasks
 * stalled waiting for memory) but each reduces to `usedBytes` out of
 * `budgetBytes`, so one `MemoryThresholds` per signal can judge it and the
 * combined monitor can compare them.
 */
import type { MemorySample } from '../pressure/memory-state.js';

/** The four Node signals. */
export type NodeSignalName = 'heap' | 'container' | 'system' | 'psi';

export interface NodeSignalReading {
  readonly signal: NodeSignalName;
  /**
   * What produced the value, published as `MemoryState.source`:
   * - `heap`: V8 old generation against the point where V8 gives up;
   * - `cgroup`: the container's working set against its memory limit;
   * - `resident`: this process's resident set against the machine (no container limit);
   * - `system`: the machine's used memory (total minus MemAvailable) against its total;
   * - `psi`: memory pressure-stall time, in parts per million of the last 10 s.
   */
  readonly source: string;
  /** False when the environment does not offer this signal (no PSI, say); the other fields are then 0. */
  readonly available: boolean;
  readonly usedBytes: number;
  readonly budgetBytes: number;
  /** usedBytes / budgetBytes; may exceed 1 (the heap past V8's give-up point). 0 when unavailable. */
  readonly fraction: number;
  /** Where the value came from, for people: files, limits, flags. */
  readonly detail: string;
}

export interface NodeSignal {
  readonly name: NodeSignalName;
  /** Samples the signal now (or returns the last value while within its refresh interval). */
  read(): NodeSignalReading;
  /** Releases kept-open files. The signal reopens them if read again. */
  close(): void;
}

export function reading(
  signal: NodeSignalName,
  source: string,
  usedBytes: number,
  budgetBytes: number,
  detail: string,
): NodeSignalReading {
  const used = Math.max(0, usedBytes);
  const budget = Math.max(0, budgetBytes);
  return { signal, source, available: true, usedBytes: used, budgetBytes: budget, fraction: budget > 0 ? used / budget : 0, detail };
}

export function unavailableReading(signal: NodeSignalName, source: string, detail: string): NodeSignalReading {
  return { signal, source, available: false, usedBytes: 0, budgetBytes: 0, fraction: 0, detail };
}

/** A reading as a `MemorySample`: used, and what is left of the budget. */
export function sampleOf(r: NodeSignalReading): MemorySample {
  return { usedBytes: r.usedBytes, availableBytes: Math.max(0, r.budgetBytes - r.usedBytes), source: r.source };
}

const MIB = 1024 * 1024;

export function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;
}
