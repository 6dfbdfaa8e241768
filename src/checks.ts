/**
 * The small checks every module shares, written once:
 *
 * - `describeValue`: how an error message shows the value it refuses;
 * - `requireDurationMs`: the one validator for a duration in milliseconds;
 * - `isThenable`: whether a callback answered with a promise;
 * - `requireCount`: a count argument (a non-negative integer).
 *
 * Errors built with these name the field and the value, as everywhere in the
 * library. This module imports nothing: it sits in the lowest layer, with
 * `clock.ts` and `observable.ts`.
 */

/** Strings longer than this are cut in messages (a key may be a whole document). */
const MAX_STRING_CHARS = 60;
/** Arrays up to this length are shown item by item; longer ones by their length. */
const MAX_ARRAY_ITEMS = 8;

/**
 * A short, safe description of any value for an error message: strings
 * quoted (and cut after 60 characters), numbers, booleans, `null`,
 * `undefined` and symbols as written, BigInts with their `n`, short arrays of
 * primitives item by item, and anything else by its kind (`an object`,
 * `a function`, `an array of 12 items`) so that no message prints (or calls
 * `toString` on) a caller's object.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS - 3)}...` : value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return describeArray(value);
      return 'an object';
    default:
      return String(value);
  }
}

function describeArray(items: readonly unknown[]): string {
  const primitive = (item: unknown) => item === null || (typeof item !== 'object' && typeof item !== 'function');
  if (items.length === 0) return 'an empty array';
  if (items.length > MAX_ARRAY_ITEMS || !items.every(primitive)) return `an array of ${items.length} item${items.length === 1 ? '' : 's'}`;
  return `[${items.map(describeValue).join(', ')}]`;
}

/**
 * `value` if it is a finite number of milliseconds above zero (or at least
 * zero with `allowZero`); else a `RangeError` naming `field` and the value:
 * "pollingIntervalMs must be a positive finite number of milliseconds, got 0".
 */
export function requireDurationMs(field: string, value: unknown, options?: { allowZero?: boolean }): number {
  const allowZero = options?.allowZero === true;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(
      `${field} must be a ${allowZero ? 'non-negative' : 'positive'} finite number of milliseconds, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Whether `value` has a `then` method: a promise, or anything `await` would treat as one. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** `value` when it is a non-negative safe integer; otherwise a `RangeError` naming `field` and the value. */
export function requireCount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}
