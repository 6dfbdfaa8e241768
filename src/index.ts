// nexus-store: the platform-neutral core. No Node built-ins, no runtime dependencies.
// Every public export is listed here by name.

// Time
export { systemClock, getDefaultClock, setDefaultClock, ManualClock } from './clock.js';
export type { Clock, TimerHandle, TimerOptions } from './clock.js';

// Streams
export { Subject, ValueSubject } from './observable.js';
export type { Observable, Observer, Subscription, ListenerErrorHandler } from './observable.js';

// Pressure model and monitor
export { PRESSURE_LEVELS, comparePressure, maxPressure, isMemoryPressureLevel } from './pressure-levels.js';
export type { MemoryPressureLevel } from './pressure-levels.js';
export { MemoryThresholds } from './pressure/thresholds.js';
export type { MemoryThresholdsInit } from './pressure/thresholds.js';
export { usageOf } from './pressure/memory-state.js';
export type { MemorySample, MemoryState } from './pressure/memory-state.js';
export type { MemoryMonitor, MemoryStateProvider, MemoryPressureHandler } from './pressure/monitor.js';
export { PollingMemoryMonitor } from './pressure/polling-memory-monitor.js';
export type { PollingMemoryMonitorOptions, MemoryProvider } from './pressure/polling-memory-monitor.js';

// Resource cleanup
export { CLEANUP_PRIORITIES, compareCleanupPriority, isCleanupPriority, maxCleanupPriority } from './cleanup/priority.js';
export type { CleanupPriority } from './cleanup/priority.js';
export type { CleanupResult } from './cleanup/cleanup-result.js';
export type { ResourceCleaner, CleanupContext } from './cleanup/resource-cleaner.js';
export type { ClearableCache, TrimmableCache } from './cleanup/clearable-cache.js';
export { CacheCleaner } from './cleanup/cache-cleaner.js';
export type { CacheCleanerOptions } from './cleanup/cache-cleaner.js';
export { ResourceCleanupCoordinator, DEFAULT_CLEANUP_POLICY } from './cleanup/resource-cleanup-coordinator.js';
export type { ResourceCleanupCoordinatorOptions, CleanupPolicy, CleanupRunOptions } from './cleanup/resource-cleanup-coordinator.js';

// Memory-bounded cache
export { defaultSizeEstimator, jsonSizeEstimator } from './cache/size-estimator.js';
export type { SizeEstimator } from './cache/size-estimator.js';
export { MemoryManager, FALLBACK_ENTRY_BYTES } from './cache/memory-manager.js';
export type { SetOptions } from './cache/memory-manager.js';
export type { MemoryConfig } from './cache/memory-config.js';
export type { EvictionEvent, EvictionReason, MemoryMetrics } from './cache/eviction-event.js';
export { EVICTION_STRATEGIES, isEvictionStrategy } from './cache/policies/registry.js';
export type { EvictionStrategy } from './cache/policies/registry.js';

// Store
export { NexusStore } from './store/nexus-store.js';
export type { StoreConfig, NexusStoreOptions } from './store/nexus-store.js';
export type { StoreCache, StoreCacheOption } from './store/store-cache.js';
export { MemoryBackend } from './store/memory-backend.js';
export type { MemoryBackendOptions } from './store/memory-backend.js';
export type { Backend } from './store/backend.js';
export { NexusStoreError } from './store/store-error.js';
export type { StoreOperation } from './store/store-error.js';

// Telemetry
export type { MemoryTelemetry } from './telemetry/memory-telemetry.js';
