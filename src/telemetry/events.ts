// The shapes telemetry receives. The cache and cleanup modules define the
// public types (EvictionEvent, CleanupResult); these structural twins keep the
// telemetry module free of imports from them, so there is no cycle.
import type { MemoryPressureLevel } from '../pressure-levels.js';

export interface EvictionEventLike {
  key: unknown;
  bytes: number;
  reason: 'capacity' | 'pressure' | 'manual';
  level: MemoryPressureLevel;
}

export interface CleanupResultLike {
  cleanerName: string;
  bytesFreed: number;
  success: boolean;
  error?: string;
  durationMs: number;
}
