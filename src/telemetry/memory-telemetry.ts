/**
 * Telemetry hooks. The cache, the coordinator and the monitor call these;
 * `nexus-store/opentelemetry` maps them onto OpenTelemetry instruments, and
 * anyone can implement them for another metrics system.
 *
 * Hooks are called synchronously on the path that produced the event, so an
 * implementation must be cheap; a hook that throws is caught and ignored by
 * the caller (telemetry never breaks the cache).
 */
import type { CleanupResultLike, EvictionEventLike } from './events.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';

export interface MemoryTelemetry {
  /** The cache's size after a change: bytes accounted and entries held. */
  recordCacheSize(bytes: number, entries: number): void;
  recordEviction(event: EvictionEventLike): void;
  recordPressureChange(from: MemoryPressureLevel, to: MemoryPressureLevel): void;
  recordCleanup?(results: CleanupResultLike[]): void;
  recordError?(error: Error): void;
}

/** Calls a telemetry hook, swallowing what it throws. */
export function safeRecord<A extends unknown[]>(hook: ((...args: A) => void) | undefined, thisArg: unknown, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook.apply(thisArg, args);
  } catch {
    // Telemetry must never break the component that reports to it.
  }
}
