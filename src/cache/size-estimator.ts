/**
 * Size estimators: how many bytes a cached value keeps alive. The cache calls
 * its estimator once per `set`, never on `get`.
 *
 * `defaultSizeEstimator` walks the value once and adds up what V8 allocates
 * for it, from the table of sizes below. Design:
 *
 * - Structure: a recursive walk up to MAX_DEPTH levels; objects deeper than
 *   that go on a worklist that the top level drains, so a 100 000-deep chain
 *   never overflows the stack. Plain objects are read with for-in, which
 *   walks V8's enum cache without allocating. Arrays of numbers run a tight
 *   loop: whatever the numbers, such an array costs 8 bytes an element.
 * - Cost: O(values visited), at most WORK_BUDGET of them: 0.1-2 µs for
 *   typical records, at most a few tens of milliseconds for giant values
 *   (bench/RESULTS.md). When the budget runs out, each container still being
 *   walked extrapolates its remaining children from the average of those
 *   it measured, so a huge array is estimated as huge in bounded time. A
 *   linked chain longer than the budget is counted only up to it.
 * - Identity: an object reached twice (a shared reference, a cycle) is
 *   counted once. The first LINEAR_VISITED_MAX objects are kept in a reused
 *   array and found by a linear scan, cheaper than hashing at that size; a
 *   Set takes over past it. Both are emptied after every call, so the
 *   estimator never keeps a value alive.
 * - Never throws: a getter or a proxy trap that throws is caught and that
 *   property counts as one slot. Own enumerable properties are read, so own
 *   getters run (and so does an own `constructor` getter); inherited
 *   properties and prototypes are not counted: a class instance costs its
 *   own fields, its class is shared.
 *
 * What it cannot see, and what it assumes:
 * - Strings are counted as flat strings: 16 bytes, then one byte per
 *   character, or two when any character is above U+00FF; '' and one-
 *   character Latin-1 strings are shared by V8 and free. Each occurrence is
 *   counted, though V8 shares identical literals and JSON.parse shares
 *   identical short strings. Ropes built by `+` or template literals (32
 *   bytes per concatenation plus the parts) and slices of larger strings
 *   are counted as the flat strings they stand for.
 * - Property names of ordinary objects are free: they live in the hidden
 *   class, shared by every object of the same shape. Objects with at least
 *   DICTIONARY_MIN_KEYS keys, and null-prototype objects, are hash tables
 *   that also own their key strings (array-index keys are numbers). JSON.parse
 *   switches to a dictionary at that count, but objects grown one property
 *   at a time switch at about 20 keys: those are under-estimated, up to
 *   about 4x, between 20 and 127 keys.
 * - Arrays are counted at their length; arrays grown by push may hold up to
 *   half again as much spare capacity, which is invisible.
 * - Typed arrays count their bytes: an ArrayBuffer's contents live outside
 *   the V8 heap but are retained all the same. A view over part of a larger
 *   buffer counts only the bytes it spans.
 * - Map, Set, Date, RegExp, Error, BigInt, symbols and functions have their
 *   own entries; closures are opaque (what they capture is not counted).
 *   WeakMap, WeakSet, WeakRef and Promise count their own object only.
 * - Objects from another realm (an iframe, node:vm) fail `instanceof` and
 *   are counted by their own enumerable properties.
 *
 * `jsonSizeEstimator` is the UTF-8 length of `JSON.stringify(value)`, counted
 * without encoding. It throws where JSON.stringify throws (cycles, BigInt);
 * the cache turns that into a fallback size and an error report.
 */
import { describeValue } from '../checks.js';

/** Bytes a value keeps alive, as a cache accounts for it. */
export type SizeEstimator<V> = (value: V) => number;

/*
 * V8 sizes in bytes, measured on Node 20 (V8 11.3), x64 without pointer
 * compression (8-byte tagged slots): keep thousands of copies of a value
 * alive, run gc() twice and divide the growth of heapUsed (plus external
 * memory, for ArrayBuffer contents) by the count; median of three runs.
 * bench/estimator.bench.ts repeats these measurements next to the estimates
 * (its calibration table), and test/cache/size-estimator-accuracy.test.ts
 * fails when they drift by more than 20%. Pointer-compressed V8 builds
 * (Chrome, Electron) use 4-byte slots: there the estimates run high, which
 * errs on the safe side for a memory budget. Other engines differ in detail.
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
const REGEXP = 104;
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
const WORK_BUDGET = 100_000;
/** Objects remembered in a plain list before a Set takes over. */
const LINEAR_VISITED_MAX = 32;

// The walk's state lives in module variables: cheaper than a context object
// passed through every call. A getter that calls the estimator again gets a
// fresh state and the outer one is restored afterwards (see below).
let busy = false;
let work = 0;
// Objects already counted. Typical values hold a few dozen objects, for which
// a linear scan of a reused array beats hashing; past LINEAR_VISITED_MAX the
// walk switches to a Set. Both are emptied after each call so the estimator
// never keeps a cached value alive.
let visited: (object | undefined)[] = new Array<object | undefined>(LINEAR_VISITED_MAX).fill(undefined);
let visitedCount = 0;
let seen: Set<object> | null = null;
let deferred: object[] | null = null;

// Matches only characters above U+00FF. On a one-byte string irregexp knows
// at once that it cannot match, so this answers in constant time for the
// usual strings; on a two-byte one it stops at the first wide character.
// (Like any regexp, it flattens a rope first, as JSON.stringify would.)
const TWO_BYTE = /[\u0100-\uffff]/;

function isHeapNumber(x: number): boolean {
  // 32-bit signed integers are stored inline (Smis); -0 and the rest are boxed.
  return (x | 0) !== x || (x === 0 && 1 / x < 0);
}

function stringSize(s: string): number {
  const n = s.length;
  // V8 keeps one shared copy of '' and of every one-character Latin-1 string.
  if (n <= 1 && (n === 0 || s.charCodeAt(0) <= 0xff)) return 0;
  // Rounded up to 8; strings are shorter than 2^29, so int32 arithmetic is exact.
  return (STRING_HEADER + 7 + (TWO_BYTE.test(s) ? 2 * n : n)) & ~7;
}

function bigintSize(b: bigint): number {
  if (b === 0n) return BIGINT_HEADER;
  const hexDigits = (b < 0n ? -b : b).toString(16).length;
  return BIGINT_HEADER + BIGINT_DIGIT * Math.ceil(hexDigits / 16);
}

function hashCapacity(size: number): number {
  let capacity = 4;
  while (capacity < size) capacity *= 2;
  return capacity;
}

/** Marks `o` as counted; false when it already was. */
function firstVisit(o: object): boolean {
  if (seen !== null) {
    if (seen.has(o)) return false;
    seen.add(o);
    return true;
  }
  for (let i = 0; i < visitedCount; i++) if (visited[i] === o) return false;
  if (visitedCount < LINEAR_VISITED_MAX) {
    visited[visitedCount++] = o;
    return true;
  }
  seen = new Set<object>();
  for (let i = 0; i < visitedCount; i++) seen.add(visited[i] as object);
  seen.add(o);
  return true;
}

function objectsVisited(): number {
  return seen === null ? visitedCount : seen.size;
}

/** Bytes a value adds where it is stored: 0 for what fits in the slot. */
function valueSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'number':
      return isHeapNumber(v) ? HEAP_NUMBER : 0;
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

/**
 * Bytes of an object not counted yet. Plain objects, the common case, are
 * walked right here: for-in reads V8's enum cache and allocates nothing.
 * The only inherited enumerable keys it could meet would come from a
 * polluted Object.prototype.
 */
function objectBody(o: object, depth: number): number {
  let keysRead = -1;
  let children = 0;
  let dictionary = false;
  try {
    if (Array.isArray(o)) return arraySize(o, depth);
    if ((o as { constructor?: unknown }).constructor !== Object) {
      const proto: unknown = Object.getPrototypeOf(o);
      if (proto !== Object.prototype) {
        if (proto !== null) return otherSize(o, depth);
        dictionary = true;
      }
    }
    const record = o as Record<string, unknown>;
    keysRead = 0;
    for (const key in record) {
      if (++work > WORK_BUDGET) return recordRest(record, dictionary, children, keysRead);
      keysRead++;
      const x = record[key];
      if (typeof x === 'string') children += stringSize(x);
      else if (typeof x === 'object') children += x === null ? 0 : objectSize(x, depth + 1);
      else if (typeof x === 'number') children += isHeapNumber(x) ? HEAP_NUMBER : 0;
      else children += valueSize(x, depth + 1);
    }
    return (!dictionary && keysRead < DICTIONARY_MIN_KEYS ? shapeSize(keysRead) : dictionarySize(record)) + children;
  } catch {
    if (keysRead < 0) return EMPTY_OBJECT; // a proxy trap threw before anything could be read
    // The getter of key number `keysRead` threw (children catch their own
    // errors): its slot counts, the keys after it are read one by one.
    try {
      return keyedSize(o as Record<string, unknown>, Object.keys(o), keysRead, children, depth, dictionary);
    } catch {
      return shapeSize(keysRead) + children; // a proxy that cannot even list its keys
    }
  }
}

/** `measured` is the cost of the first `done` of `total` children: the rest cost the same on average. */
function extrapolate(measured: number, done: number, total: number): number {
  return done > 0 && done < total ? (measured / done) * total : measured;
}

function arraySize(a: readonly unknown[], depth: number): number {
  const n = a.length;
  const shell = ARRAY_HEADER + (n === 0 ? 0 : FIXED_ARRAY_HEADER + SLOT * n);
  // Only numbers: a FixedDoubleArray or a Smi array, 8 bytes per element,
  // whatever the numbers are. Past the budget the rest is taken to be alike.
  const limit = Math.min(n, Math.max(0, WORK_BUDGET - work));
  let i = 0;
  while (i < limit && typeof a[i] === 'number') i++;
  if (i === limit) {
    work += limit;
    return shell;
  }
  // Mixed: a FixedArray of tagged slots, where doubles are boxed.
  let children = 0;
  for (i = 0; i < n; i++) {
    if (++work > WORK_BUDGET) break;
    const x = a[i];
    if (typeof x === 'string') children += stringSize(x);
    else if (typeof x === 'object') children += x === null ? 0 : objectSize(x, depth + 1);
    else if (typeof x === 'number') children += isHeapNumber(x) ? HEAP_NUMBER : 0;
    else children += valueSize(x, depth + 1);
  }
  return shell + extrapolate(children, i, n);
}

function shapeSize(n: number): number {
  return n === 0 ? EMPTY_OBJECT : OBJECT_HEADER + SLOT * n;
}

/** Out of budget inside a plain object: the keys not read cost the average of those read. */
function recordRest(record: Record<string, unknown>, dictionary: boolean, children: number, done: number): number {
  const n = Object.keys(record).length;
  const all = extrapolate(children, done, n);
  return (!dictionary && n < DICTIONARY_MIN_KEYS ? shapeSize(n) : dictionarySize(record)) + all;
}

/** An object's properties from `keys[from]` on, each read on its own so that a throwing getter costs only its slot. */
function keyedSize(record: Record<string, unknown>, keys: readonly string[], from: number, measured: number, depth: number, dictionary: boolean): number {
  const n = keys.length;
  let children = measured;
  let i = from;
  for (; i < n; i++) {
    if (++work > WORK_BUDGET) break;
    let x: unknown;
    try {
      x = record[keys[i] as string];
    } catch {
      continue;
    }
    children += valueSize(x, depth + 1);
  }
  children = extrapolate(children, i, n);
  return (!dictionary && n < DICTIONARY_MIN_KEYS ? shapeSize(n) : dictionarySize(record)) + children;
}

/** Whether `key` is an array index, which V8 keeps as a number, not a string. */
function isIndexKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const first = key.charCodeAt(0);
  if (first < 48 || first > 57 || (first === 48 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(key) < 4294967295;
}

/** A dictionary-mode object owns its hash table and its key strings. */
function dictionarySize(record: Record<string, unknown>): number {
  let n = 0;
  let keyBytes = 0;
  for (const key in record) {
    n++;
    if (!isIndexKey(key)) keyBytes += stringSize(key);
  }
  return DICTIONARY_BASE + DICTIONARY_ENTRY * hashCapacity(n + (n >> 1)) + keyBytes;
}

function otherSize(o: object, depth: number): number {
  if (ArrayBuffer.isView(o)) return viewSize(o);
  if (o instanceof Map) return mapSize(o, depth);
  if (o instanceof Set) return setSize(o, depth);
  if (o instanceof Date) return DATE;
  if (o instanceof ArrayBuffer) return bufferSize(o);
  if (typeof SharedArrayBuffer === 'function' && o instanceof SharedArrayBuffer) return bufferSize(o);
  if (o instanceof RegExp) return REGEXP + stringSize(o.source);
  if (o instanceof Promise) return PROMISE;
  if (o instanceof WeakMap || o instanceof WeakSet) return WEAK_COLLECTION;
  if (typeof WeakRef === 'function' && o instanceof WeakRef) return WEAK_REF;
  // Class instances and the rest: their own enumerable properties.
  const own = keyedSize(o as Record<string, unknown>, Object.keys(o), 0, 0, depth, false);
  return o instanceof Error ? ERROR - EMPTY_OBJECT + stringSize(o.message) + own : own;
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
  return HASH_COLLECTION_BASE + MAP_BYTES_PER_CAPACITY * hashCapacity(n) + extrapolate(children, i, n);
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
  return HASH_COLLECTION_BASE + SET_BYTES_PER_CAPACITY * hashCapacity(n) + extrapolate(children, i, n);
}

function bufferSize(b: ArrayBufferLike): number {
  return ARRAY_BUFFER + b.byteLength;
}

function viewSize(view: ArrayBufferView): number {
  const length = view.byteLength;
  if (view instanceof DataView) {
    return DATA_VIEW + (firstVisit(view.buffer) ? bufferSize(view.buffer) : 0);
  }
  // Small typed arrays keep their bytes on the heap and create their buffer
  // lazily; reading `.buffer` would move them off-heap, so it is not read.
  // (A small view at an offset is a slice of a larger buffer, such as
  // Node's Buffer pool: it counts the bytes it spans, below.)
  if (length <= ON_HEAP_TYPED_ARRAY_MAX && view.byteOffset === 0) {
    return TYPED_ARRAY + ARRAY_BUFFER + (length === 0 ? 0 : (FIXED_ARRAY_HEADER + 7 + length) & ~7);
  }
  if (length <= ON_HEAP_TYPED_ARRAY_MAX) return TYPED_ARRAY + length;
  const buffer = view.buffer;
  if (buffer.byteLength !== length) return TYPED_ARRAY + length;
  return TYPED_ARRAY + (firstVisit(buffer) ? bufferSize(buffer) : 0);
}

function walk(value: unknown): number {
  work = 0;
  visitedCount = 0;
  seen = null;
  deferred = null;
  let bytes = valueSize(value, 0);
  const waiting = deferred as object[] | null;
  while (waiting !== null && waiting.length > 0) {
    if (work > WORK_BUDGET) {
      // Out of budget: each object still waiting is taken to be as large
      // as the average object measured so far.
      bytes += (waiting.length * bytes) / objectsVisited();
      break;
    }
    bytes += objectBody(waiting.pop() as object, 0);
  }
  return Math.round(bytes);
}

function release(): void {
  for (let i = 0; i < visitedCount; i++) visited[i] = undefined;
  visitedCount = 0;
  seen = null;
  deferred = null;
}

/** A call made from inside a walk (by a getter): run on fresh state, then restore the outer walk's. */
function nestedWalk(value: unknown): number {
  const outer = { work, visited, visitedCount, seen, deferred };
  visited = new Array<object | undefined>(LINEAR_VISITED_MAX).fill(undefined);
  try {
    return walk(value);
  } finally {
    ({ work, visited, visitedCount, seen, deferred } = outer);
  }
}

/**
 * Estimates the bytes of V8 heap (and ArrayBuffer memory) that `value`
 * retains, by walking it once. Fast, bounded, safe on cycles and BigInt,
 * never throws. See the top of this file for what it counts.
 */
export const defaultSizeEstimator: SizeEstimator<unknown> = function defaultSizeEstimator(value: unknown): number {
  if (busy) return nestedWalk(value);
  busy = true;
  try {
    return walk(value);
  } finally {
    release();
    busy = false;
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

/**
 * The size given to an entry whose estimate failed, when the default
 * estimator cannot size it either: large enough that a stream of
 * unmeasurable values still hits the budget, small enough not to flush a
 * cache of small entries.
 */
export const FALLBACK_ENTRY_BYTES = 1024;

function isByteCount(bytes: unknown): bytes is number {
  return typeof bytes === 'number' && bytes >= 0 && bytes <= Number.MAX_SAFE_INTEGER;
}

/**
 * How a cache sizes the values it stores: `custom` (else
 * `defaultSizeEstimator`), called once per value. An estimate that throws, or
 * that is not a non-negative number up to Number.MAX_SAFE_INTEGER, is never
 * a reason to fail the `set`: the entry gets a fallback size, and the problem
 * goes to `report` (the cache's `errors`), naming the key. The fallback is
 * `defaultSizeEstimator`'s figure when a custom estimator failed and that one
 * can size the value, else `FALLBACK_ENTRY_BYTES`.
 */
export function entrySizer<V>(custom: SizeEstimator<V> | undefined, report: (error: Error) => void): (key: unknown, value: V) => number {
  const estimator = custom ?? defaultSizeEstimator;
  const name = custom === undefined ? 'defaultSizeEstimator' : 'sizeEstimator';
  const fallback = (key: unknown, value: V, problem: string, cause: unknown): number => {
    let bytes = FALLBACK_ENTRY_BYTES;
    let how = `the fallback of ${FALLBACK_ENTRY_BYTES} bytes`;
    if (custom !== undefined) {
      try {
        const estimate = defaultSizeEstimator(value);
        if (isByteCount(estimate)) {
          bytes = estimate;
          how = `defaultSizeEstimator (${Math.ceil(estimate)} bytes)`;
        }
      } catch {
        // Keep the fixed fallback.
      }
    }
    report(new Error(`${name} ${problem} for key ${describeValue(key)}; the entry is sized by ${how}`, cause === undefined ? undefined : { cause }));
    return bytes;
  };
  return (key, value) => {
    let bytes: unknown;
    try {
      bytes = estimator(value);
    } catch (error) {
      return fallback(key, value, `threw: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    if (isByteCount(bytes)) return bytes;
    return fallback(key, value, `returned ${typeof bytes === 'number' ? String(bytes) : typeof bytes}, not a non-negative number up to Number.MAX_SAFE_INTEGER`, undefined);
  };
}
