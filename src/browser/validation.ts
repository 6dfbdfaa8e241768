/** Boundary checks shared by the browser sources: each error names the field and the value. */
import { describeValue } from '../checks.js';

export function requirePositiveBytes(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a positive finite number of bytes, got ${describeValue(value)}`);
  }
  return value;
}

/** A fraction in (0, 1]. */
export function requireFraction(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${field} must be a number in (0, 1], got ${describeValue(value)}`);
  }
  return value;
}

export function requireFunction<F>(field: string, value: unknown): F {
  if (typeof value !== 'function') throw new TypeError(`${field} must be a function, got ${describeValue(value)}`);
  return value as F;
}

/** A byte count read from the browser or the app: finite and not negative. */
export function requireMeasuredBytes(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative finite number of bytes, got ${describeValue(value)}`);
  }
  return value;
}

/** Rejects option names the function does not know, so a typo does not silently fall back to a default. */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}; the options are ${known.join(', ')}`);
    }
  }
}

export function requireOptionsObject(where: string, value: unknown): object {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: options must be an object, got ${describeValue(value)}`);
  }
  return value;
}
