/**
 * Size estimators: how many bytes a cached value keeps alive.
 *
 * `defaultSizeEstimator` walks the value once and adds up what V8 would
 * allocate for it, using the table of sizes below. Design:
 *
 * - Structure: a recursive walk up to MAX_DEPTH levels; objects deeper than
 *   that go on a worklist that the top level drains, so a 100 000-deep chain
 *   never overflows the stack. Arrays of numbers run a tight loop that only
 *   classifies small integers (free) against doubles (a 16-byte heap number
 *   when the array also holds non-numbers).
 * - Cost: O(number of values visited), at most WORK_BUDGET of them. When the
 *   budget runs out, the containers still being walked extrapolate the rest
 *   of their children from the average of those measured, so a huge value is
 *   estimated as huge in bounded time instead of stalling `set`.
 * - Identity: an object reached twice (a shared reference or a cycle) is
 *   counted once. The visited set is only allocated once a nested object
 *   appears, so flat values pay nothing for it.
 * - Never throws: a getter or a proxy trap that throws is caught and the
 *   property counts as one slot. Own enumerable properties are read, so own
 *   getters do run; inherited properties and prototypes are not counted
 *   (class instances cost their own fields, their class is shared).
 *
 * What it cannot see, and how it decides:
 * - Strings are counted as flat sequential strings (16 bytes + one byte per
 *   character, two when any character is above U+00FF), each occurrence
 *   again: V8 shares identical short literals, and keeps cons and sliced
 *   strings that JavaScript cannot tell apart.
 * - Property names of ordinary objects are free: they live in the hidden
 *   class, shared by every object of the same shape. Objects with at least
 *   DICTIONARY_MIN_KEYS keys (and null-prototype objects) are hash tables
 *   in V8, which also own their key strings. JSON.parse switches at that
 *   count; objects grown one property at a time switch at about 20 keys,
 *   so those are under-estimated between 20 and 127 keys.
 * - Arrays are counted at their length; arrays grown by push hold up to
 *   about 50% spare capacity that is not visible.
 * - Typed arrays count their bytes (an ArrayBuffer's backing store lives
 *   outside the V8 heap but is retained all the same). A view over part of
 *   a larger buffer counts only the bytes it spans.
 * - Map, Set, Date, RegExp, Error, BigInt, symbols and functions have their
 *   own entries below; WeakMap, WeakSet, WeakRef and Promise count their
 *   own object only (what they reference is not retained through them, or
 *   cannot be read).
 * - Objects from another realm (an iframe, node:vm) fail `instanceof` and
 *   are walked as plain objects.
 *
 * `jsonSizeEstimator` is the UTF-8 length of `JSON.stringify(value)`, counted
 * without encoding. It throws where JSON.stringify throws (cycles, BigInt);
 * the cache turns that into a fallback size and an error report.
 */

/** Bytes a value keeps alive, as a cache accounts for it. */
export type SizeEstimator<V> = (value: V) => number;

/*
 * V8 sizes in bytes, measured on Node 20 (V8 11.3), x64 without pointer
 * compression (8-byte tagged slots): allocate 20 000 copies of a shape, run
 * gc() twice and divide the growth of heapUsed (external memory for
 * ArrayBuffer contents) by the count; median of three runs. The calibration
 * table of bench/estimator.bench.ts repeats those measurements next to the
 * estimates.
 */
const SLOT = 8;
/** JSObject: map, properties, elements. Each in-object field adds a SLOT. */
const OBJECT_HEADER = 24;
/** `{}` and `JSON.parse('{}')` reserve four in-object fields. */
const EMPTY_OBJECT = 56;
/** Objects with this many keys or more are dictionaries (see above). */
const DICTIONARY_MIN_KEYS = 128;
/** Dictionary-mode object: the object plus the NameDictionary's header. */
const DICTIONARY_BASE = 88;
/** One NameDictionary entry: key, value, property details. */
const DICTIONARY_ENTRY = 24;
/** JSArray: map, properties, elements, length. */
const ARRAY_HEADER = 32;
/** FixedArray / FixedDoubleArray header: map, length. */
const FIXED_ARRAY_HEADER = 16;
/** A boxed double (any number that is not a 32-bit integer, and -0). */
const HEAP_NUMBER = 16;
/** SeqString header: map, hash, length; the characters follow, 8-aligned. */
const STRING_HEADER = 16;
/** BigInt: map and bitfield, then one 64-bit digit per 64 bits. */
const BIGINT_HEADER = 16;
const BIGINT_DIGIT = 8;
const DATE = 96;
/** JSRegExp and its data array; the source string is added to it. */
const REGEXP = 96;
/** Error with its captured stack trace, without the message string. */
const ERROR = 448;
const SYMBOL = 24;
/** A closure: JSFunction and its context. */
const FUNCTION = 96;
const PROMISE = 48;
const WEAK_COLLECTION = 136;
const WEAK_REF = 32;
/**
 * JSMap / JSSet and their OrderedHashMap / OrderedHashSet table: a FixedArray
 * of 3 counters, capacity/2 buckets and capacity entries (key, value, chain
 * for a Map; key, chain for a Set). Capacity is a power of two, at least 4.
 */
const HASH_COLLECTION_BASE = 72;
const MAP_BYTES_PER_CAPACITY = 4 + 24;
const SET_BYTES_PER_CAPACITY = 4 + 16;
/** JSArrayBuffer; its backing store (byteLength bytes) is added to it. */
const ARRAY_BUFFER = 88;
/** JSTypedArray, without its buffer. */
const TYPED_ARRAY = 96;
const DATA_VIEW = 80;
/** Typed arrays of at most this many bytes keep their data on the V8 heap. */
const ON_HEAP_TYPED_ARRAY_MAX = 64;

/** Recursion depth before objects are deferred to the worklist. */
const MAX_DEPTH = 64;
/** Values visited per call before the rest is extrapolated. */
const WORK_BUDGET = 200_000;

// The walk's state lives in module variables (cheaper than passing a context
// through every call); defaultSizeEstimator saves and restores it, so a
// getter that calls the estimator again cannot corrupt an outer walk.
let work = 0;
let root: object | null = null;
let seen: Set<object> | null = null;
let deferred: object[] | null = null;
let objectsCounted = 0;
let objectBytes = 0;

const TWO_BYTE = /[\u0100-\uffff]/;
const TWO_BYTE_SCAN_MAX = 16_384;
const TWO_BYTE_WINDOW = 1_024;
const TWO_BYTE_WINDOWS = 8;

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

function isSmi(x: number): boolean {
  // 32-bit signed integers are stored inline (Smis); -0 is not one.
  return (x | 0) === x && (x !== 0 || 1 / x > 0);
}

function isTwoByte(s: string): boolean {
  const n = s.length;
  if (n <= 32) {
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0xff) return true;
    return false;
  }
  if (n <= TWO_BYTE_SCAN_MAX) return TWO_BYTE.test(s);
  // A huge string is sampled in windows: text outside Latin-1 rarely hides
  // in one spot, and scanning megabytes would make `set` slow.
  const step = Math.floor((n - TWO_BYTE_WINDOW) / (TWO_BYTE_WINDOWS - 1));
  for (let w = 0; w < TWO_BYTE_WINDOWS; w++) {
    const start = w * step;
    if (TWO_BYTE.test(s.slice(start, start + TWO_BYTE_WINDOW))) return true;
  }
  return false;
}

function stringSize(s: string): number {
  const n = s.length;
  return align8(STRING_HEADER + (isTwoByte(s) ? 2 * n : n));
}

function bigintSize(b: bigint): number {
  const hexDigits = (b < 0n ? -b : b).toString(16).length;
  return b === 0n ? BIGINT_HEADER : BIGINT_HEADER + BIGINT_DIGIT * Math.ceil(hexDigits / 16);
}

function hashCapacity(size: number): number {
  let capacity = 4;
  while (capacity < size) capacity *= 2;
  return capacity;
}

/** Marks `o` as counted; false when it already was. */
function firstVisit(o: object): boolean {
  if (seen === null) {
    if (root === null) {
      root = o;
      return true;
    }
    if (o === root) return false;
    seen = new Set<object>();
    seen.add(root);
  }
  if (seen.has(o)) return false;
  seen.add(o);
  return true;
}

/** Bytes a value adds where it is stored: 0 for what fits in the slot. */
function valueSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'number':
      return isSmi(v) ? 0 : HEAP_NUMBER;
    case 'string':
      return stringSize(v);
    case 'object':
      return v === null ? 0 : objectSize(v, depth);
    case 'bigint':
      return bigintSize(v);
    case 'symbol':
      return SYMBOL;
    case 'function':
      return firstVisit(v) ? FUNCTION : 0;
    default:
      return 0; // boolean, undefined: immortal oddballs
  }
}

function objectSize(o: object, depth: number): number {
  if (!firstVisit(o)) return 0;
  if (depth >= MAX_DEPTH) {
    (deferred ??= []).push(o);
    return 0;
  }
  return objectBody(o, depth);
}

function objectBody(o: object, depth: number): number {
  objectsCounted++;
  let bytes: number;
  try {
    bytes = Array.isArray(o) ? arraySize(o, depth) : nonArraySize(o, depth);
  } catch {
    // A proxy trap threw before anything could be read.
    bytes = EMPTY_OBJECT;
  }
  objectBytes += bytes;
  return bytes;
}

function arraySize(a: readonly unknown[], depth: number): number {
  const n = a.length;
  let children = 0;
  let heapNumbers = 0;
  let allNumbers = true;
  let i = 0;
  for (; i < n; i++) {
    if (++work > WORK_BUDGET) break;
    const x = a[i];
    if (typeof x === 'number') {
      if ((x | 0) !== x || (x === 0 && 1 / x < 0)) heapNumbers++;
    } else {
      allNumbers = false;
      if (x !== undefined && x !== null && typeof x !== 'boolean') children += valueSize(x, depth + 1);
    }
  }
  // Only numbers: a FixedDoubleArray or a Smi array, 8 bytes per element.
  // Mixed: a FixedArray of tagged slots whose doubles are boxed.
  if (!allNumbers) children += heapNumbers * HEAP_NUMBER;
  if (i < n && i > 0) children += (children / i) * (n - i);
  return ARRAY_HEADER + (n === 0 ? 0 : FIXED_ARRAY_HEADER + SLOT * n) + children;
}

function nonArraySize(o: object, depth: number): number {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype) return plainObjectSize(o, depth, false);
  if (proto === null) return plainObjectSize(o, depth, true);
  if (ArrayBuffer.isView(o)) return viewSize(o);
  if (o instanceof Map) return mapSize(o, depth);
  if (o instanceof Set) return setSize(o, depth);
  if (o instanceof Date) return DATE;
  if (o instanceof ArrayBuffer) return bufferSize(o);
  if (typeof SharedArrayBuffer === 'function' && o instanceof SharedArrayBuffer) return bufferSize(o);
  if (o instanceof RegExp) return REGEXP + stringSize(o.source);
  if (o instanceof Error) return ERROR + stringSize(o.message) + plainObjectSize(o, depth, false) - EMPTY_OBJECT;
  if (o instanceof Promise) return PROMISE;
  if (o instanceof WeakMap || o instanceof WeakSet) return WEAK_COLLECTION;
  if (typeof WeakRef === 'function' && o instanceof WeakRef) return WEAK_REF;
  return plainObjectSize(o, depth, false);
}

function plainObjectSize(o: object, depth: number, dictionary: boolean): number {
  const keys = Object.keys(o);
  const n = keys.length;
  const record = o as Record<string, unknown>;
  let children = 0;
  let i = 0;
  for (; i < n; i++) {
    if (++work > WORK_BUDGET) break;
    let x: unknown;
    try {
      x = record[keys[i] as string];
    } catch {
      continue; // a throwing getter: the slot is counted, its value cannot be
    }
    if (typeof x === 'number') {
      if ((x | 0) !== x || (x === 0 && 1 / x < 0)) children += HEAP_NUMBER;
    } else if (x !== undefined && x !== null && typeof x !== 'boolean') {
      children += valueSize(x, depth + 1);
    }
  }
  if (i < n && i > 0) children += (children / i) * (n - i);
  if (!dictionary && n < DICTIONARY_MIN_KEYS) return (n === 0 ? EMPTY_OBJECT : OBJECT_HEADER + SLOT * n) + children;
  // A dictionary owns its key strings; integer-like keys are stored as numbers.
  let keyBytes = 0;
  for (let k = 0; k < n; k++) {
    const key = keys[k] as string;
    const c = key.charCodeAt(0);
    if (!(c >= 48 && c <= 57)) keyBytes += stringSize(key);
  }
  return DICTIONARY_BASE + DICTIONARY_ENTRY * hashCapacity(Math.ceil(n * 1.5)) + keyBytes + children;
}

function mapSize(m: Map<unknown, unknown>, depth: number): number {
  const n = m.size;
  let children = 0;
  let i = 0;
  for (const [k, v] of m) {
    if (++work > WORK_BUDGET) break;
    children += valueSize(k, depth + 1) + valueSize(v, depth + 1);
    i++;
  }
  if (i < n && i > 0) children += (children / i) * (n - i);
  return HASH_COLLECTION_BASE + MAP_BYTES_PER_CAPACITY * hashCapacity(n) + children;
}

function setSize(s: Set<unknown>, depth: number): number {
  const n = s.size;
  let children = 0;
  let i = 0;
  for (const k of s) {
    if (++work > WORK_BUDGET) break;
    children += valueSize(k, depth + 1);
    i++;
  }
  if (i < n && i > 0) children += (children / i) * (n - i);
  return HASH_COLLECTION_BASE + SET_BYTES_PER_CAPACITY * hashCapacity(n) + children;
}

function bufferSize(b: ArrayBufferLike): number {
  return ARRAY_BUFFER + b.byteLength;
}

function viewSize(view: ArrayBufferView): number {
  const length = view.byteLength;
  if (view instanceof DataView) {
    return DATA_VIEW + (firstVisit(view.buffer) ? bufferSize(view.buffer) : 0);
  }
  // Small typed arrays keep their bytes on the heap with a lazily created
  // buffer; reading `.buffer` would move them off-heap, so it is not read.
  if (length <= ON_HEAP_TYPED_ARRAY_MAX) {
    return TYPED_ARRAY + ARRAY_BUFFER + (length === 0 ? 0 : align8(FIXED_ARRAY_HEADER + length));
  }
  const buffer = view.buffer;
  if (buffer.byteLength !== length) return TYPED_ARRAY + length;
  return TYPED_ARRAY + (firstVisit(buffer) ? bufferSize(buffer) : 0);
}

/**
 * Estimates the bytes of V8 heap (and ArrayBuffer memory) that `value`
 * retains, by walking it once. Fast, bounded, safe on cycles and BigInt,
 * never throws. See the top of this file for what it counts.
 */
export const defaultSizeEstimator: SizeEstimator<unknown> = function defaultSizeEstimator(value: unknown): number {
  const saved = [work, root, seen, deferred, objectsCounted, objectBytes] as const;
  work = 0;
  root = null;
  seen = null;
  deferred = null;
  objectsCounted = 0;
  objectBytes = 0;
  try {
    let bytes = valueSize(value, 0);
    const waiting = deferred as object[] | null;
    while (waiting !== null && waiting.length > 0) {
      if (work > WORK_BUDGET) {
        // Out of budget: each object still waiting is taken to be as large
        // as the average object measured so far.
        bytes += waiting.length * (objectsCounted === 0 ? EMPTY_OBJECT : objectBytes / objectsCounted);
        break;
      }
      bytes += objectBody(waiting.pop() as object, 0);
    }
    return Math.round(bytes);
  } finally {
    [work, root, seen, deferred, objectsCounted, objectBytes] = saved;
  }
};

/** UTF-8 bytes of a string, counted without encoding it. */
function utf8ByteLength(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 code units, 4 bytes
      i++;
    } else {
      bytes += 2; // the rest of the BMP, and lone surrogates as U+FFFD
    }
  }
  return bytes;
}

/**
 * UTF-8 bytes of `JSON.stringify(value)`; 0 when JSON.stringify returns
 * undefined (undefined, a function, a symbol). Throws what JSON.stringify
 * throws: a TypeError on a cycle or a BigInt.
 */
export const jsonSizeEstimator: SizeEstimator<unknown> = function jsonSizeEstimator(value: unknown): number {
  const json: string | undefined = JSON.stringify(value);
  return json === undefined ? 0 : utf8ByteLength(json);
};
