import { describeValue } from '../checks.js';

/** What one cleaner did during one cleanup run. */
export interface CleanupResult {
  /** The cleaner's `name`. */
  cleanerName: string;
  /** Bytes given back: a non-negative finite number (0 when nothing was freed or the run failed). */
  bytesFreed: number;
  /** False when the cleaner threw, rejected, timed out or returned something that is not a valid result. */
  success: boolean;
  /** Why it failed (or a note from a cleaner that succeeded partially). */
  error?: string;
  /** Time the cleaner took, measured with the coordinator's clock. */
  durationMs: number;
}

/**
 * Why `value` is not a usable `CleanupResult`, or `undefined` when it is.
 *
 * `durationMs` is not checked: the coordinator measures it itself. Every
 * other field present must have its documented type; `bytesFreed` and
 * `success` are required.
 */
export function describeInvalidCleanupResult(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected an object with bytesFreed and success, got ${describeValue(value)}`;
  }
  const result = value as Record<string, unknown>;
  const { bytesFreed, success, cleanerName, error } = result;
  if (typeof bytesFreed !== 'number' || !Number.isFinite(bytesFreed) || bytesFreed < 0) {
    return `bytesFreed must be a non-negative finite number, got ${describeValue(bytesFreed)}`;
  }
  if (typeof success !== 'boolean') return `success must be a boolean, got ${describeValue(success)}`;
  if (cleanerName !== undefined && typeof cleanerName !== 'string') {
    return `cleanerName must be a string, got ${describeValue(cleanerName)}`;
  }
  if (error !== undefined && typeof error !== 'string') return `error must be a string, got ${describeValue(error)}`;
  return undefined;
}

/** The message of whatever was thrown, without assuming it is an `Error`. */
export function reasonOf(thrown: unknown): string {
  if (thrown instanceof Error) {
    if (thrown.message === '') return thrown.name;
    return thrown.name === 'Error' ? thrown.message : `${thrown.name}: ${thrown.message}`;
  }
  return describeValue(thrown);
}
