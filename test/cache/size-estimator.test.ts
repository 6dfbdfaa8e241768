import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { defaultSizeEstimator as estimate, jsonSizeEstimator } from '../../src/cache/size-estimator.js';
import { collectGarbage, needsGc } from '../helpers/gc.js';

// Sizes the model is built on (see the table in src/cache/size-estimator.ts):
// 8-byte slots, 24-byte object header, 32-byte array header + 16-byte
// elements header, 16-byte heap numbers and string headers.
const object = (fields: number): number => (fields === 0 ? 56 : 24 + 8 * fields);
const array = (length: number): number => 32 + (length === 0 ? 0 : 16 + 8 * length);
const oneByte = (length: number): number => Math.ceil((16 + length) / 8) * 8;
const twoByte = (length: number): number => Math.ceil((16 + 2 * length) / 8) * 8;

/** A fresh, flat copy of a string (not a slice or a rope of another one). */
const flat = (s: string): string => s.split('').join('');

describe('defaultSizeEstimator: primitives', () => {
  test('booleans, null and undefined cost nothing: they are shared oddballs', () => {
    for (const v of [true, false, null, undefined]) assert.equal(estimate(v), 0);
  });

  test('32-bit integers are free, other numbers and -0 are 16-byte heap numbers', () => {
    for (const v of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]) assert.equal(estimate(v), 0, String(v));
    for (const v of [0.5, -0, 2 ** 31, -(2 ** 31) - 1, Number.MAX_VALUE, Number.NaN, Infinity]) {
      assert.equal(estimate(v), 16, String(v));
    }
  });

  test('one-byte strings cost a 16-byte header plus a byte per character, 8-aligned', () => {
    assert.equal(estimate('ab'), 24);
    assert.equal(estimate(flat('abcdefghi')), 32);
    assert.equal(estimate(flat('x'.repeat(100))), oneByte(100));
    assert.equal(estimate(flat('é'.repeat(100))), oneByte(100), 'Latin-1 characters are still one byte');
  });

  test('the empty string and one-character Latin-1 strings are shared by V8 and cost nothing', () => {
    assert.equal(estimate(''), 0);
    assert.equal(estimate('a'), 0);
    assert.equal(estimate('\u00ff'), 0);
    assert.equal(estimate('\u0100'), 24, 'a wide single character is a string of its own');
    assert.equal(estimate({ a: 'x', b: '' }), object(2));
  });

  test('a string with any character above U+00FF costs two bytes per character', () => {
    assert.equal(estimate(flat('中'.repeat(100))), twoByte(100));
    assert.equal(estimate(flat(`${'a'.repeat(99)}中`)), twoByte(100));
    assert.equal(estimate(flat(`😀${'a'.repeat(98)}`)), twoByte(100), 'a surrogate pair is two code units');
  });

  test('huge strings are sized by their representation: a single wide character anywhere makes them two-byte', () => {
    const ascii = 'x'.repeat(4_000_000);
    const wideInMiddle = `${'x'.repeat(2_000_000)}中${'x'.repeat(2_000_000)}`;
    assert.equal(estimate(ascii), oneByte(4_000_000));
    assert.equal(estimate(wideInMiddle), twoByte(4_000_001));
  });

  test('BigInts cost a header plus 8 bytes per 64 bits of magnitude, whatever the sign', () => {
    assert.equal(estimate(0n), 16);
    assert.equal(estimate(1n), 24);
    assert.equal(estimate(2n ** 63n), 24);
    assert.equal(estimate(2n ** 64n), 32);
    assert.equal(estimate(-(2n ** 64n)), 32);
    assert.equal(estimate(2n ** 1023n), 16 + 8 * 16);
  });

  test('symbols and functions count a constant and are not walked', () => {
    assert.ok(estimate(Symbol('s')) > 0);
    const small = () => 1;
    const big = 'x'.repeat(100_000);
    const capturing = () => big.length;
    assert.ok(estimate(small) > 0);
    assert.equal(estimate(capturing), estimate(small), 'closures are opaque: captured variables are not visible');
  });
});

describe('defaultSizeEstimator: objects and arrays', () => {
  test('an object costs its header plus a slot per property; small ints and booleans add nothing', () => {
    assert.equal(estimate({}), object(0));
    assert.equal(estimate({ a: 1, b: true, c: null }), object(3));
    assert.equal(estimate({ a: 1.5, b: 2.5 }), object(2) + 2 * 16);
    assert.equal(estimate({ s: flat('hello world') }), object(1) + oneByte(11));
  });

  test('nested objects add their own size', () => {
    const inner = { x: 0.5, y: flat('label') };
    assert.equal(estimate({ inner, n: 1 }), object(2) + estimate(inner));
  });

  test('arrays of numbers cost 8 bytes per element whether the numbers are integers or doubles', () => {
    assert.equal(estimate([]), array(0));
    assert.equal(estimate([1, 2, 3]), array(3));
    assert.equal(estimate([1.5, 2.5, 3.5]), array(3));
    assert.equal(estimate(Array.from({ length: 1000 }, (_, i) => i / 7)), array(1000));
  });

  test('in a mixed array doubles are boxed heap numbers and strings and objects add their size', () => {
    const s = flat('abcdefghijklmnop');
    assert.equal(estimate([1.5, s]), array(2) + 16 + oneByte(16));
    assert.equal(estimate([1, s]), array(2) + oneByte(16));
    assert.equal(estimate([{}, null, undefined, true]), array(4) + object(0));
  });

  test('holes cost their slot only', () => {
    const holey: unknown[] = [];
    holey[9] = flat('last');
    assert.equal(estimate(holey), array(10) + oneByte(4));
  });

  test('objects with 128 keys or more are counted as dictionaries that own their key strings', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, i]));
    assert.equal(estimate(keys(127)), object(127));
    // A hash table of capacity 256 (a power of two holding 1.5 x the keys), 24 bytes an entry, plus the key strings.
    assert.equal(estimate(keys(128)), 88 + 24 * 256 + 128 * oneByte(6));
    // Array-index keys are stored as numbers; '007' is not an index, so it is a string.
    const indexKeys = { ...keys(127), 0: 1, 4294967294: 1 };
    assert.equal(estimate(indexKeys), 88 + 24 * 256 + 127 * oneByte(6));
    assert.equal(estimate({ ...keys(127), '007': 1 }), 88 + 24 * 256 + 128 * oneByte(6));
    // Null-prototype objects are dictionaries from the first key; one-letter keys are shared strings.
    const nullProto = Object.assign(Object.create(null) as object, { a: 1, b: 2, c: 3 });
    assert.equal(estimate(nullProto), 88 + 24 * 4);
  });

  test('class instances count their own fields, not their prototype', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    assert.equal(estimate(new Point(1, 2)), object(2));
    assert.equal(estimate(new Point(1.5, 2)), object(2) + 16);
  });

  test('Map and Set count their hash table (capacity a power of two, at least 4) and their contents', () => {
    assert.equal(estimate(new Map()), 72 + 28 * 4);
    assert.equal(estimate(new Map([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])), 72 + 28 * 8);
    assert.equal(estimate(new Set()), 72 + 20 * 4);
    const s = flat('a map value');
    assert.equal(estimate(new Map([[1, s]])), 72 + 28 * 4 + oneByte(s.length));
    assert.equal(estimate(new Set([s, 0.5])), 72 + 20 * 4 + oneByte(s.length) + 16);
    assert.ok(estimate(new Map([[flat('a long string key'), 1]])) > estimate(new Map([[1, 1]])), 'keys are counted');
  });

  test('Date, RegExp and Error have fixed costs; RegExp adds its source and Error its message', () => {
    assert.equal(estimate(new Date(0)), 96);
    assert.ok(estimate(/a much longer regular expression source/) > estimate(/a/));
    assert.ok(estimate(new Error('x'.repeat(1000))) > estimate(new Error('x')) + 900);
  });
});

describe('defaultSizeEstimator: binary data', () => {
  test('typed arrays and ArrayBuffers count their bytes, on or off the V8 heap', () => {
    assert.ok(estimate(new Uint8Array(16)) >= 16 + 96);
    assert.equal(estimate(new Float64Array(1000)) - estimate(new Float64Array(100)), 8 * 900);
    assert.equal(estimate(new ArrayBuffer(5000)) - estimate(new ArrayBuffer(1000)), 4000);
    assert.equal(estimate(new DataView(new ArrayBuffer(5000))) - estimate(new DataView(new ArrayBuffer(1000))), 4000);
    assert.ok(estimate(new BigUint64Array(1000)) > 8000);
  });

  test('a buffer reached through several views is counted once', () => {
    const buffer = new ArrayBuffer(10_000);
    const one = estimate({ a: new Uint8Array(buffer) });
    const three = estimate({ a: new Uint8Array(buffer), b: new Int32Array(buffer), c: buffer });
    assert.ok(three < one + 300, `three views of one buffer estimated at ${three}, one view at ${one}`);
  });

  test('a view over part of a larger buffer counts only the bytes it spans', () => {
    const big = new Uint8Array(1_000_000);
    const part = big.subarray(0, 1000);
    assert.equal(estimate(part), 96 + 1000);
    const small = big.subarray(500, 510);
    assert.equal(estimate(small), 96 + 10, 'a small view at an offset is not an on-heap array');
    assert.equal(estimate(Buffer.from('pooled')), 96 + 6, "a small Node Buffer is a slice of Node's pool");
  });
});

describe('defaultSizeEstimator: identity, cycles and bounds', () => {
  test('an object reachable twice is counted once', () => {
    const shared = { payload: flat('x'.repeat(1000)) };
    const once = estimate(shared);
    assert.equal(estimate({ a: shared, b: shared }), object(2) + once);
    assert.equal(estimate([shared, shared, shared]), array(3) + once);
    assert.equal(estimate(new Map([[1, shared], [2, shared]])), estimate(new Map([[1, shared], [2, null]])));
  });

  test('shared references are still counted once in values with thousands of objects', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ i: i + 0.5 }));
    assert.equal(estimate([...items, ...items]), array(10_000) + 5000 * (object(1) + 16));
  });

  test('cycles terminate and count each object once', () => {
    const self: Record<string, unknown> = { a: 1 };
    self.self = self;
    assert.equal(estimate(self), object(2));
    const a: Record<string, unknown> = { name: flat('node a') };
    const b: Record<string, unknown> = { name: flat('node b'), next: a };
    a.next = b;
    assert.equal(estimate(a), 2 * (object(2) + oneByte(6)));
    const list: unknown[] = [];
    list.push(list, new Map([[list, new Set([list])]]));
    assert.ok(Number.isFinite(estimate(list)));
  });

  test('BigInts inside values do not throw', () => {
    assert.equal(estimate({ id: 2n ** 64n, n: 1 }), object(2) + 32);
    assert.equal(estimate([1n, 2n]), array(2) + 2 * 24);
  });

  test('a 100 000-deep chain neither overflows the stack nor takes long', () => {
    let chain: Record<string, unknown> | null = null;
    for (let i = 0; i < 100_000; i++) chain = { v: i, next: chain };
    let nested: unknown[] = [];
    for (let i = 0; i < 100_000; i++) nested = [nested];
    const start = performance.now();
    const bytes = estimate(chain);
    const arrays = estimate(nested);
    const ms = performance.now() - start;
    // The budget of 100 000 values covers half of the chain; at least that much is counted.
    assert.ok(bytes >= 50_000 * object(2), `chain estimated at ${bytes}`);
    assert.ok(arrays >= 50_000 * array(1), `nested arrays estimated at ${arrays}`);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  test('a chain within the budget is counted exactly, however deep', () => {
    let chain: Record<string, unknown> | null = null;
    for (let i = 0; i < 20_000; i++) chain = { v: i, next: chain };
    assert.equal(estimate(chain), 20_000 * object(2));
  });

  test('huge values are estimated in bounded time by extrapolating past the budget', () => {
    const objects = Array.from({ length: 1_000_000 }, (_, i) => ({ i: i + 0.5 }));
    const numbers = new Array<number>(10_000_000).fill(0.5);
    const start = performance.now();
    const objectsBytes = estimate(objects);
    const numbersBytes = estimate(numbers);
    const ms = performance.now() - start;
    const exact = array(1_000_000) + 1_000_000 * (object(1) + 16);
    assert.ok(Math.abs(objectsBytes / exact - 1) < 0.01, `estimated ${objectsBytes}, exact ${exact}`);
    assert.equal(numbersBytes, array(10_000_000));
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  test('bigger values never estimate smaller (adding a field to an object, an element or characters)', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), fc.string(), (items, extra, s) => {
        const before = estimate(items);
        assert.ok(estimate([...items, extra]) >= before);
        // From one field on: `{}` itself reserves four slots, more than `{ a }` (see the table).
        const record = { first: 0, ...Object.fromEntries(items.map((v, i) => [`k${i}`, v])) };
        assert.ok(estimate({ ...record, extra }) >= estimate(record));
        assert.ok(estimate(flat(`${s}x`)) >= estimate(flat(s)));
      }),
      { numRuns: 300 },
    );
  });

  test('returns a non-negative integer for any JSON-like value', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }), (v) => {
        const bytes = estimate(v);
        assert.ok(Number.isInteger(bytes) && bytes >= 0, String(bytes));
      }),
      { numRuns: 500 },
    );
  });
});

describe('defaultSizeEstimator: hostile values', () => {
  test('a throwing getter costs its slot and the other properties are still counted', () => {
    const value = {
      before: flat('x'.repeat(100)),
      get broken(): never {
        throw new Error('getter failed');
      },
      after: flat('y'.repeat(100)),
    };
    assert.equal(estimate(value), object(3) + 2 * oneByte(100));
  });

  test('own getters are read and their values counted', () => {
    const text = flat('z'.repeat(500));
    assert.equal(estimate({ get text() { return text; } }), object(1) + oneByte(500));
  });

  test('proxies whose traps throw, and revoked proxies, give a number instead of an error', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { ownKeys: trap, getPrototypeOf: trap, get: trap, has: trap });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    // Looks like a plain object (constructor is Object) but cannot list its keys.
    const unlistable = new Proxy({ a: 1 }, { ownKeys: trap });
    for (const v of [hostile, proxy, unlistable, { inner: hostile }, [proxy], { inner: unlistable }]) {
      const bytes = estimate(v);
      assert.ok(Number.isInteger(bytes) && bytes > 0, String(bytes));
    }
  });

  test('a getter that estimates another value does not disturb the outer estimate', () => {
    const other = { big: flat('q'.repeat(1000)) };
    let inner = -1;
    const value = {
      a: flat('a'.repeat(200)),
      get b() {
        inner = estimate(other);
        return 1;
      },
      c: flat('c'.repeat(200)),
    };
    assert.equal(estimate(value), object(3) + 2 * oneByte(200));
    assert.equal(inner, object(1) + oneByte(1000));
  });

  test('keeps no reference to the values it measured', needsGc, async () => {
    const measureAndDrop = (): WeakRef<object> => {
      const value = { nested: [{ deep: new Uint8Array(1000) }], list: Array.from({ length: 100 }, () => ({})) };
      estimate(value);
      return new WeakRef(value);
    };
    const ref = measureAndDrop();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    assert.equal(ref.deref(), undefined);
  });
});

describe('jsonSizeEstimator', () => {
  test('is the UTF-8 byte length of JSON.stringify, for any unicode content', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (v, binary, grapheme) => {
        for (const x of [v, binary, grapheme, { binary, grapheme, v }]) {
          assert.equal(jsonSizeEstimator(x), Buffer.byteLength(JSON.stringify(x)));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('counts multi-byte characters and surrogate pairs, and escapes lone surrogates', () => {
    assert.equal(jsonSizeEstimator('é'), 4); // quotes + 2 bytes
    assert.equal(jsonSizeEstimator('中'), 5);
    assert.equal(jsonSizeEstimator('😀'), 6);
    assert.equal(jsonSizeEstimator('\ud800'), Buffer.byteLength(JSON.stringify('\ud800')));
  });

  test('is 0 when JSON.stringify returns undefined', () => {
    assert.equal(jsonSizeEstimator(undefined), 0);
    assert.equal(jsonSizeEstimator(() => 1), 0);
    assert.equal(jsonSizeEstimator(Symbol('s')), 0);
  });

  test('throws what JSON.stringify throws on cycles and BigInts, for the cache to report', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => jsonSizeEstimator(cycle), TypeError);
    assert.throws(() => jsonSizeEstimator({ id: 1n }), TypeError);
  });
});
