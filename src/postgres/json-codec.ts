/**
 * How items become `jsonb` and back, and the check that nothing is lost on
 * the way.
 *
 * `JSON.stringify` changes values without a word: a `Date` comes back as a
 * string, a `Map`, `Set` or `RegExp` as `{}`, `NaN` as `null`, and
 * `undefined` fields and functions vanish. A process that cached the
 * original would then disagree with every process that reads the row. So
 * the backend stores only values JSON carries unchanged, and refuses
 * anything else with an error naming the field (`item.createdAt is a
 * Date ...`). A codec carries other values: it turns an item into plain
 * JSON and back, and what it produces is checked the same way.
 *
 * The check is one walk over the value, O(nodes), with the path built only
 * when a problem is found.
 */

/** Turns items into plain JSON values and back; see `PostgresBackendOptions.codec`. */
export interface JsonCodec<T> {
  /**
   * A plain JSON value for the item: objects (plain, or with a null
   * prototype), arrays, strings, finite numbers, booleans and null. It is
   * checked before anything is sent; it may share parts with the item.
   */
  encode(item: T): unknown;
  /** The item back from a JSON value the backend parsed afresh (never shared with anything else). */
  decode(json: unknown): T;
}

/** The default codec: the item is stored as it is, so it must already be plain JSON. */
export const strictJsonCodec: JsonCodec<never> = Object.freeze({
  encode: (item: unknown) => item,
  decode: (json: unknown) => json as never,
});

/** One step of the path to a value, kept as a chain so a path string is only built for an error. */
interface PathStep {
  readonly parent: PathStep | undefined;
  readonly key: string | number;
  readonly value: unknown;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function pathOf(step: PathStep): string {
  const parts: string[] = [];
  for (let at: PathStep | undefined = step; at !== undefined; at = at.parent) {
    const { key } = at;
    if (at.parent === undefined) parts.push(String(key));
    else if (typeof key === 'number') parts.push(`[${key}]`);
    else parts.push(PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  }
  return parts.reverse().join('');
}

/** What JSON would make of a value of this class, for the error message. */
function becomes(name: string): string {
  if (name === 'Date') return 'which would bring it back as a string';
  if (name === 'Map' || name === 'Set' || name === 'WeakMap' || name === 'WeakSet' || name === 'RegExp') return 'which would bring it back as {}';
  if (/Array$/.test(name)) return 'which would bring it back as a plain object or array';
  return 'which would bring it back as a plain object, without its class';
}

function refuse(step: PathStep, problem: string, hint: string): never {
  throw new TypeError(
    `${pathOf(step)} ${problem}; PostgresBackend stores JSON, ${hint}. ` +
      'Convert it to plain JSON, or pass a codec (options.codec) that encodes and decodes it',
  );
}

function checkString(text: string, step: PathStep, what: string): void {
  if (text.includes('\u0000')) {
    throw new RangeError(`${pathOf(step)}: ${what} must not contain U+0000 (jsonb cannot hold it)`);
  }
  if (LONE_SURROGATE.test(text)) {
    throw new RangeError(`${pathOf(step)}: ${what} must be well-formed UTF-16 (it contains a lone surrogate, which jsonb refuses)`);
  }
}

function walk(value: unknown, step: PathStep): void {
  switch (typeof value) {
    case 'string':
      checkString(value, step, 'a string');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(step, `is ${String(value)}`, 'which stores it as null');
      return;
    case 'undefined':
      refuse(step, 'is undefined', typeof step.key === 'number' ? 'which stores it as null' : 'which drops the field');
      break;
    case 'function':
      refuse(step, 'is a function', 'which drops it');
      break;
    case 'symbol':
      refuse(step, 'is a symbol', 'which drops it');
      break;
    case 'bigint':
      refuse(step, 'is a BigInt', 'which cannot carry it (JSON.stringify throws)');
      break;
    default:
      break;
  }
  if (value === null) return;
  const object = value as object;
  for (let at = step.parent; at !== undefined; at = at.parent) {
    if (at.value === object) refuse(step, `refers back to ${pathOf(at)} (a cycle)`, 'which cannot carry cycles');
  }
  const proto: unknown = Object.getPrototypeOf(object);
  if (Array.isArray(object) && proto === Array.prototype) {
    const array = object as unknown[];
    for (let i = 0; i < array.length; i++) {
      const child: PathStep = { parent: step, key: i, value: array[i] };
      if (!(i in array)) refuse(child, 'is an empty slot of a sparse array', 'which stores it as null');
      walk(array[i], child);
    }
    return;
  }
  if (proto !== Object.prototype && proto !== null) {
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
    const className = typeof name === 'string' && name !== '' ? name : 'object of a class';
    refuse(step, `is ${/^[AEIO]/.test(className) ? 'an' : 'a'} ${className}`, becomes(className));
  }
  if (Object.getOwnPropertySymbols(object).some((symbol) => Object.prototype.propertyIsEnumerable.call(object, symbol))) {
    refuse(step, 'has a symbol key', 'which drops it');
  }
  for (const key of Object.keys(object)) {
    const child: PathStep = { parent: step, key, value: (object as Record<string, unknown>)[key] };
    checkString(key, child, 'a key');
    walk(child.value, child);
  }
}

/**
 * The JSON text of `value`, or an error naming the first part of it that
 * JSON would not carry unchanged (`root` starts the path, e.g. `item`):
 * a `TypeError` for values of the wrong kind, a `RangeError` for strings
 * jsonb cannot hold.
 */
export function toStrictJson(value: unknown, root: string): string {
  walk(value, { parent: undefined, key: root, value });
  return JSON.stringify(value);
}

/** Throws a `TypeError` unless `codec` has `encode` and `decode` functions. */
export function assertCodec(codec: unknown): asserts codec is JsonCodec<unknown> {
  if (typeof codec !== 'object' || codec === null) {
    throw new TypeError(`codec must be an object with encode and decode functions, got ${codec === null ? 'null' : typeof codec}`);
  }
  for (const method of ['encode', 'decode'] as const) {
    const fn = (codec as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new TypeError(`codec.${method} must be a function, got ${typeof fn}`);
  }
}
