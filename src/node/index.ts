// nexus-store/node: memory signals of a Node.js process and a monitor over them.
// The only entry point allowed to use Node built-ins. Every public export is listed by name.

// The monitor
export { createNodeMemoryMonitor, NodeMemoryMonitor, DEFAULT_NODE_POLLING_INTERVAL_MS, DEFAULT_NODE_POLLING_INTERVAL_MS_BY_LEVEL } from './node-memory-monitor.js';
export type { NodeMemoryMonitorOptions } from './node-memory-monitor.js';

// Heap cap against container limit
export { HeapCapWarning, checkHeapCap, fittingMaxOldSpaceSizeMb, NODE_OUTSIDE_HEAP_BYTES } from './heap-cap.js';

// All signals together, per-signal breakdown
export { NodeMemorySignals, readNodeMemorySignals, DEFAULT_NODE_THRESHOLDS, NODE_SIGNAL_NAMES, DEFAULT_SLOW_REFRESH_MS } from './node-memory-signals.js';
export type { NodeMemorySignalsOptions, NodeMemorySignalsReading, NodeSignalLevelReading } from './node-memory-signals.js';

// Each signal on its own
export {
  createHeapMemoryProvider,
  createContainerMemoryProvider,
  createSystemMemoryProvider,
  createPressureStallMemoryProvider,
  heapMemoryProvider,
  containerMemoryProvider,
  systemMemoryProvider,
  pressureStallMemoryProvider,
} from './providers.js';
export type { NodeSignalProvider } from './providers.js';
export { HeapSignal, resolveOldGenerationLimit, V8_GIVE_UP_FRACTION } from './heap-signal.js';
export type { HeapSignalOptions, OldGenerationLimit } from './heap-signal.js';
export { ContainerSignal, DEFAULT_REDETECT_INTERVAL_MS } from './container-signal.js';
export type { ContainerSignalOptions, FileSignalOptions } from './container-signal.js';
export { SystemSignal } from './system-signal.js';
export type { RefreshingSignalOptions } from './system-signal.js';
export { PressureStallSignal, PSI_PARTS } from './pressure-stall-signal.js';
export type { NodeSignal, NodeSignalName, NodeSignalReading } from './signal.js';

// Injection points (tests, other environments)
export { nodeRuntime, nodeFileSystem } from './runtime.js';
export type { NodeRuntime, HeapSpaceUsage } from './runtime.js';
export type { SyncFileSystem } from './kept-open-file.js';
