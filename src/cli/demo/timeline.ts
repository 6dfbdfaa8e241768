/**
 * What the demo publishes while it runs: one sample every sampling tick and
 * one entry per cleanup run. The progress lines, the final report and the
 * dashboard all read these, so they can never disagree.
 */
import type { MemoryPressureLevel } from '../../index.js';
import type { CleanupLogEntry, ComponentName } from './service.js';

export interface DemoSample {
  /** Seconds since the workload started. */
  readonly t: number;
  readonly heapUsedBytes: number;
  /** The heap size at which the monitor's usage reaches 1: where V8 gives up. */
  readonly heapLimitBytes: number;
  /** The level the monitor reports, and the signal that produced it. */
  readonly level: MemoryPressureLevel;
  readonly source: string;
  readonly cacheBytes: Readonly<Record<ComponentName, number>>;
  /** Evictions since the start, all caches and reasons. */
  readonly evictions: number;
  readonly requests: number;
  readonly hits: number;
  /** In a memory cgroup with a limit: its working set (usage less inactive file pages) and its limit. */
  readonly containerWorkingSetBytes?: number;
  readonly containerLimitBytes?: number;
}

export interface DemoStart {
  readonly mode: 'managed' | 'baseline';
  readonly seed: number;
  readonly durationS: number;
  readonly heapMb: number;
  readonly heapLimitBytes: number;
  /** The memory cgroup's limit, when the workload runs under one. */
  readonly containerLimitBytes?: number;
  readonly components: readonly { name: ComponentName; priority: string; budgetBytes: number | undefined }[];
}

export interface DemoListener {
  start?(info: DemoStart): void;
  sample?(sample: DemoSample): void;
  cleanup?(entry: CleanupLogEntry & { readonly t: number }): void;
  end?(outcome: { readonly t: number; readonly report: string }): void;
}
