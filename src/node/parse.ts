/**
 * Parsers for the kernel's memory files, working on the bytes of a
 * `KeptOpenFile` so the hot path allocates no strings and runs no regular
 * expressions. Each returns NaN (or undefined) for contents it does not
 * understand; callers treat that as "signal unavailable", never as zero.
 *
 * Limits are parsed apart (`parseLimitBytes`), with BigInt: cgroup v1 writes
 * "no limit" as 9223372036854771712 (PAGE_COUNTER_MAX pages of 4 KiB) and
 * some kernels as 2^64 - 1, neither of which a double holds exactly, and
 * cgroup v2 writes "max".
 */

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const EQUALS = 0x3d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Encodes an ASCII key once, at module load or construction. */
export function asciiKey(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i) & 0x7f;
  return out;
}

/**
 * Index just after `key` where it starts a line and is followed by a
 * separator (space, tab, ':' or '='), or -1.
 */
export function findLineKey(bytes: Uint8Array, length: number, key: Uint8Array): number {
  let lineStart = 0;
  while (lineStart < length) {
    let match = lineStart + key.length < length;
    for (let k = 0; match && k < key.length; k++) {
      if (bytes[lineStart + k] !== key[k]) match = false;
    }
    if (match) {
      const after = bytes[lineStart + key.length];
      if (after === SPACE || after === TAB || after === COLON || after === EQUALS) return lineStart + key.length;
    }
    const newline = bytes.indexOf(NEWLINE, lineStart);
    if (newline < 0 || newline >= length) return -1;
    lineStart = newline + 1;
  }
  return -1;
}

/**
 * The unsigned decimal integer at `from`, after separators. NaN when there
 * are no digits, the digits are followed by something other than a
 * separator or line end, or the value exceeds 2^53 (exactness lost).
 */
export function parseUnsignedAt(bytes: Uint8Array, length: number, from: number): number {
  let i = from;
  while (i < length && (bytes[i] === SPACE || bytes[i] === TAB || bytes[i] === COLON || bytes[i] === EQUALS)) i++;
  const start = i;
  let value = 0;
  while (i < length) {
    const c = bytes[i] as number;
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
    i++;
  }
  if (i === start || value > Number.MAX_SAFE_INTEGER) return NaN;
  if (i < length) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== NEWLINE) return NaN;
  }
  return value;
}

/** The value of a "key value" line (memory.stat) or NaN. */
export function parseKeyedValue(bytes: Uint8Array, length: number, key: Uint8Array): number {
  const at = findLineKey(bytes, length, key);
  return at < 0 ? NaN : parseUnsignedAt(bytes, length, at);
}

/** A file holding one unsigned integer (memory.current, memory.usage_in_bytes), or NaN. */
export function parseSingleValue(bytes: Uint8Array, length: number): number {
  return length <= 0 ? NaN : parseUnsignedAt(bytes, length, 0);
}

const KIB = 1024;

/** A /proc/meminfo "Key:   123 kB" line in bytes, or NaN. */
export function parseMeminfoBytes(bytes: Uint8Array, length: number, key: Uint8Array): number {
  const at = findLineKey(bytes, length, key);
  if (at < 0) return NaN;
  const kib = parseUnsignedAt(bytes, length, at);
  return Number.isNaN(kib) ? NaN : kib * KIB;
}

/** A decimal like "12.34" at `from`, or NaN. */
export function parseDecimalAt(bytes: Uint8Array, length: number, from: number): number {
  let i = from;
  let whole = 0;
  let digits = 0;
  while (i < length) {
    const c = bytes[i] as number;
    if (c < ZERO || c > NINE) break;
    whole = whole * 10 + (c - ZERO);
    i++;
    digits++;
  }
  let fraction = 0;
  let scale = 1;
  if (i < length && bytes[i] === DOT) {
    i++;
    while (i < length) {
      const c = bytes[i] as number;
      if (c < ZERO || c > NINE) break;
      fraction = fraction * 10 + (c - ZERO);
      scale *= 10;
      i++;
      digits++;
    }
  }
  if (digits === 0) return NaN;
  if (i < length) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== NEWLINE) return NaN;
  }
  return whole + fraction / scale;
}

const AVG10 = asciiKey('avg10=');

/**
 * The avg10 percentage (0..100) of the "some" or "full" line of a PSI file
 * ("some avg10=1.23 avg60=0.50 avg300=0.10 total=12345"), or NaN.
 */
export function parsePressureAvg10(bytes: Uint8Array, length: number, kind: Uint8Array): number {
  const at = findLineKey(bytes, length, kind);
  if (at < 0) return NaN;
  let end = bytes.indexOf(NEWLINE, at);
  if (end < 0 || end > length) end = length;
  let i = at;
  while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  for (let k = 0; k < AVG10.length; k++) {
    if (bytes[i + k] !== AVG10[k]) return NaN;
  }
  const value = parseDecimalAt(bytes, end, i + AVG10.length);
  return value >= 0 && value <= 100 ? value : NaN;
}

/** No real memory limit reaches 2^62 bytes; cgroup v1 and some kernels spell "unlimited" as numbers above it. */
const UNLIMITED_FROM = 1n << 62n;

/**
 * A cgroup limit file's contents: a byte count, `null` for "no limit"
 * ("max", 9223372036854771712, 2^64 - 1, anything from 2^62 up), or
 * undefined for contents that are not a limit.
 */
export function parseLimitBytes(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === 'max') return null;
  if (!/^\d{1,20}$/.test(trimmed)) return undefined;
  const value = BigInt(trimmed);
  if (value >= UNLIMITED_FROM) return null;
  return Number(value);
}
