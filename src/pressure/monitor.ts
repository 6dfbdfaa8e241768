import type { Observable } from '../observable.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryState } from './memory-state.js';

/** Anything that can tell how pressing memory is, now and as it changes. */
export interface MemoryPressureHandler {
  /** Emits the current level on subscribe, then each change. */
  readonly pressure: Observable<MemoryPressureLevel>;
  currentPressure(): MemoryPressureLevel;
  /**
   * Optional: a cache tells its pressure source how many bytes it has just
   * dropped (evicted, deleted or replaced), once per operation. What a
   * garbage collector reclaims stays resident until it runs, so a source
   * that measures resident memory can tell that garbage from growth. Must
   * not call back into the cache.
   */
  noteReleased?(bytes: number): void;
}

export interface MemoryStateProvider {
  currentMemoryState(): MemoryState;
}

export interface MemoryMonitor extends MemoryStateProvider, MemoryPressureHandler {
  /** Emits the current state on subscribe, then every sample. */
  readonly states: Observable<MemoryState>;
  startMonitoring(): void;
  stopMonitoring(): void;
}

/** True when `handler` also publishes every sample (a `MemoryMonitor`). */
export function hasStates(handler: MemoryPressureHandler): handler is MemoryPressureHandler & { readonly states: Observable<MemoryState> } {
  const states = (handler as Partial<MemoryMonitor>).states;
  return typeof states === 'object' && states !== null && typeof states.subscribe === 'function';
}
