/**
 * How pressing the memory situation is. Each level asks more of the process:
 *
 * - `normal`: nothing to do.
 * - `moderate`: start shedding: optional caches, one eviction batch at a time.
 * - `critical`: shed hard: at least half of what can be evicted, every cleaner.
 * - `emergency`: drop everything that is not pinned; the next step is a crash.
 */
export type MemoryPressureLevel = 'normal' | 'moderate' | 'critical' | 'emergency';

/** Every level, from the least to the most pressing. */
export const PRESSURE_LEVELS: readonly MemoryPressureLevel[] = Object.freeze([
  'normal',
  'moderate',
  'critical',
  'emergency',
] as const);

const RANK: Readonly<Record<MemoryPressureLevel, number>> = { normal: 0, moderate: 1, critical: 2, emergency: 3 };

/**
 * `PRESSURE_LEVELS` again, not frozen, for `levelAtRank`: V8 compiles an
 * indexed read of a frozen array into a call to its generic lookup, about
 * 80 instructions, where a plain array's is a few (counted on the cache's
 * eviction path, which reads the level of every eviction).
 */
const LEVEL_AT_RANK: MemoryPressureLevel[] = [...PRESSURE_LEVELS];

/** The level at `rank` (0 to 3, as `pressureRank` gives) in `PRESSURE_LEVELS`: for hot paths that keep ranks. */
export function levelAtRank(rank: number): MemoryPressureLevel {
  return LEVEL_AT_RANK[rank]!;
}

export function isMemoryPressureLevel(value: unknown): value is MemoryPressureLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RANK, value);
}

/** The level's position in `PRESSURE_LEVELS`; a `RangeError` for anything that is not a level. */
export function pressureRank(level: MemoryPressureLevel, field = 'level'): number {
  if (!isMemoryPressureLevel(level)) {
    throw new RangeError(`${field} must be one of ${PRESSURE_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  return RANK[level];
}

/** Negative when `a` is less pressing than `b`, zero when equal, positive when more pressing. */
export function comparePressure(a: MemoryPressureLevel, b: MemoryPressureLevel): number {
  return pressureRank(a, 'a') - pressureRank(b, 'b');
}

/** The more pressing of two levels. */
export function maxPressure(a: MemoryPressureLevel, b: MemoryPressureLevel): MemoryPressureLevel {
  return comparePressure(a, b) >= 0 ? a : b;
}
