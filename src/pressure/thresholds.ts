import { isMemoryPressureLevel, pressureRank, PRESSURE_LEVELS, type MemoryPressureLevel } from '../pressure-levels.js';

export interface MemoryThresholdsInit {
  /** Usage fraction at which `moderate` starts, in (0, 1). */
  moderate: number;
  /** Usage fraction at which `critical` starts, above `moderate`. */
  critical: number;
  /** Usage fraction at which `emergency` starts, above `critical`, at most 1. Default 0.95 (halfway from `critical` to 1 when `critical >= 0.95`). */
  emergency?: number;
  /** How far below a level's threshold usage must fall before that level is left. Default 0.05 (less when `moderate` is small). */
  hysteresis?: number;
}

const DEFAULT_EMERGENCY = 0.95;
const DEFAULT_HYSTERESIS = 0.05;

function requireFinite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${field} must be a finite number, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/**
 * Usage fractions that separate the pressure levels, with hysteresis so a
 * usage hovering at a threshold does not flap between two levels.
 */
export class MemoryThresholds {
  /** 0.70 / 0.85 / 0.95, hysteresis 0.05. */
  static readonly default: MemoryThresholds = new MemoryThresholds({ moderate: 0.7, critical: 0.85, emergency: 0.95, hysteresis: 0.05 });
  /** 0.60 / 0.75 / 0.90, hysteresis 0.05: for processes where a crash is expensive. */
  static readonly conservative: MemoryThresholds = new MemoryThresholds({ moderate: 0.6, critical: 0.75, emergency: 0.9, hysteresis: 0.05 });

  readonly moderate: number;
  readonly critical: number;
  readonly emergency: number;
  readonly hysteresis: number;

  constructor(init: MemoryThresholdsInit) {
    if (typeof init !== 'object' || init === null) {
      throw new RangeError(`thresholds must be an object with moderate and critical, got ${String(init)}`);
    }
    const moderate = requireFinite('moderate', init.moderate);
    const critical = requireFinite('critical', init.critical);
    if (moderate <= 0 || moderate >= 1) throw new RangeError(`moderate must be in (0, 1), got ${moderate}`);
    if (critical <= moderate) throw new RangeError(`critical must be above moderate (${moderate}), got ${critical}`);
    if (critical >= 1) throw new RangeError(`critical must be below 1, got ${critical}`);
    const emergency =
      init.emergency === undefined
        ? critical < DEFAULT_EMERGENCY
          ? DEFAULT_EMERGENCY
          : critical + (1 - critical) / 2
        : requireFinite('emergency', init.emergency);
    if (emergency <= critical) throw new RangeError(`emergency must be above critical (${critical}), got ${emergency}`);
    if (emergency > 1) throw new RangeError(`emergency must be at most 1, got ${emergency}`);
    const hysteresis =
      init.hysteresis === undefined ? Math.min(DEFAULT_HYSTERESIS, moderate / 2) : requireFinite('hysteresis', init.hysteresis);
    if (hysteresis < 0 || hysteresis >= moderate) {
      throw new RangeError(`hysteresis must be in [0, moderate = ${moderate}), got ${hysteresis}`);
    }
    this.moderate = moderate;
    this.critical = critical;
    this.emergency = emergency;
    this.hysteresis = hysteresis;
    Object.freeze(this);
  }

  /** The usage fraction at which `level` starts (0 for `normal`). */
  thresholdOf(level: MemoryPressureLevel): number {
    switch (level) {
      case 'normal':
        return 0;
      case 'moderate':
        return this.moderate;
      case 'critical':
        return this.critical;
      case 'emergency':
        return this.emergency;
      default:
        pressureRank(level);
        return 0;
    }
  }

  /**
   * The highest level whose threshold `usage` reaches (`>=`).
   *
   * With `previous`, rising is immediate, but `previous` is only left downwards
   * once `usage` falls below its threshold minus `hysteresis`.
   */
  levelFor(usage: number, previous?: MemoryPressureLevel): MemoryPressureLevel {
    if (typeof usage !== 'number' || Number.isNaN(usage) || usage < 0) {
      throw new RangeError(`usage must be a non-negative number, got ${String(usage)}`);
    }
    if (previous !== undefined && !isMemoryPressureLevel(previous)) {
      throw new RangeError(`previous must be one of ${PRESSURE_LEVELS.join(', ')}, got ${JSON.stringify(previous)}`);
    }
    const raw: MemoryPressureLevel =
      usage >= this.emergency ? 'emergency' : usage >= this.critical ? 'critical' : usage >= this.moderate ? 'moderate' : 'normal';
    if (previous === undefined || pressureRank(raw) >= pressureRank(previous)) return raw;
    return usage >= this.thresholdOf(previous) - this.hysteresis ? previous : raw;
  }

  toJSON(): { moderate: number; critical: number; emergency: number; hysteresis: number } {
    return { moderate: this.moderate, critical: this.critical, emergency: this.emergency, hysteresis: this.hysteresis };
  }
}
