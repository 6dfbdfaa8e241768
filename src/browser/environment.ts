/**
 * What a browser exposes about memory, read without touching anything that
 * only exists in Node: `globalThis.performance` and `globalThis.crossOriginIsolated`,
 * both optional. Every browser source takes an `environment` so tests (and
 * hosts with an unusual global, such as a worker shim) can inject their own.
 *
 * Detection reads the values (`performance.memory` is a getter on
 * `Performance.prototype` in Chromium), never `'memory' in performance`, so a
 * page that overrides the getter to return `undefined` counts as lacking it.
 */

/** `performance.memory` (Chromium only, non-standard). */
export interface PerformanceMemoryInfo {
  /** Bytes of the JS heap in use: live objects plus garbage not yet collected. */
  readonly usedJSHeapSize: number;
  /** Bytes of the JS heap reserved from the system. */
  readonly totalJSHeapSize: number;
  /** The most the JS heap may grow to (V8's heap limit, young generation included). */
  readonly jsHeapSizeLimit: number;
}

/** The result of `performance.measureUserAgentSpecificMemory()`. */
export interface UserAgentSpecificMemoryResult {
  /** The page's memory: JS and DOM of every same-origin realm in the process, workers included. */
  readonly bytes: number;
  readonly breakdown?: ReadonlyArray<{ readonly bytes: number; readonly types?: readonly string[] }>;
}

/** The parts of `Performance` the browser sources read. */
export interface PerformanceLike {
  readonly memory?: PerformanceMemoryInfo | undefined;
  measureUserAgentSpecificMemory?: (() => Promise<UserAgentSpecificMemoryResult>) | undefined;
}

/** The globals the browser sources read; default `globalThis`. */
export interface BrowserMemoryEnvironment {
  readonly performance?: PerformanceLike | undefined;
  readonly crossOriginIsolated?: boolean | undefined;
}

/** `globalThis`, seen as a browser memory environment. */
export function defaultBrowserEnvironment(): BrowserMemoryEnvironment {
  return globalThis as unknown as BrowserMemoryEnvironment;
}

export function validateEnvironment(value: unknown, field = 'environment'): BrowserMemoryEnvironment {
  if (value === undefined) return defaultBrowserEnvironment();
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError(`${field} must be an object such as globalThis, got ${String(value)}`);
  }
  return value as BrowserMemoryEnvironment;
}

function performanceOf(environment: BrowserMemoryEnvironment): PerformanceLike | undefined {
  const performance = environment.performance;
  return typeof performance === 'object' && performance !== null ? performance : undefined;
}

/**
 * The current `performance.memory` reading, or undefined when the browser
 * has none. A reading with non-numeric fields counts as none.
 */
export function readPerformanceMemory(environment: BrowserMemoryEnvironment = defaultBrowserEnvironment()): PerformanceMemoryInfo | undefined {
  const memory = performanceOf(environment)?.memory;
  if (typeof memory !== 'object' || memory === null) return undefined;
  if (typeof memory.usedJSHeapSize !== 'number' || typeof memory.jsHeapSizeLimit !== 'number') return undefined;
  return memory;
}

/**
 * True when `value` is one of the rounded figures Chromium reports when it
 * quantizes `performance.memory`: three significant decimal digits (e.g.
 * 3760000000). V8's heap limits are whole mebibytes, and a whole number of
 * mebibytes below 10 GB never has only three significant digits, so a
 * quantized limit cannot be mistaken for a precise one.
 */
export function isQuantizedByteCount(value: number): boolean {
  if (!Number.isSafeInteger(value) || value < 10_000_000) return false;
  const granularity = 10 ** (Math.floor(Math.log10(value)) - 2);
  return value % granularity === 0;
}

/** Why `measureUserAgentSpecificMemory` cannot be used here, or undefined when it can. */
export function userAgentSpecificMemoryUnavailableReason(environment: BrowserMemoryEnvironment = defaultBrowserEnvironment()): string | undefined {
  const performance = performanceOf(environment);
  // Chromium only exposes the function in cross-origin isolated contexts, so
  // check isolation first: it is the reason the developer can act on.
  if (environment.crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated (crossOriginIsolated is not true): serve it with the headers ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
  }
  if (typeof performance?.measureUserAgentSpecificMemory !== 'function') {
    return 'this browser does not implement performance.measureUserAgentSpecificMemory (Chromium 89+ does)';
  }
  return undefined;
}

/** Names of the browser memory sources, in the order `createBrowserMemoryMonitor` prefers them. */
export const BROWSER_MEMORY_SOURCES = Object.freeze(['measureUserAgentSpecificMemory', 'performance.memory', 'budget'] as const);
export type BrowserMemorySourceName = (typeof BROWSER_MEMORY_SOURCES)[number];

export function isBrowserMemorySourceName(value: unknown): value is BrowserMemorySourceName {
  return typeof value === 'string' && (BROWSER_MEMORY_SOURCES as readonly string[]).includes(value);
}

/** What this browser offers, with the reason a signal is missing. */
export interface BrowserMemorySupport {
  readonly performanceMemory:
    | { readonly available: true; readonly quantized: boolean; readonly jsHeapSizeLimit: number }
    | { readonly available: false; readonly reason: string };
  readonly userAgentSpecificMemory: { readonly available: true } | { readonly available: false; readonly reason: string };
}

/**
 * Reports which memory signals this page has. `quantized` is true when
 * Chromium rounds `performance.memory` to coarse buckets and refreshes it only
 * every 20 minutes (a renderer not locked to one site, without
 * `--enable-precise-memory-info`): such readings cannot follow pressure.
 */
export function detectBrowserMemorySupport(environment?: BrowserMemoryEnvironment): BrowserMemorySupport {
  const env = validateEnvironment(environment);
  const memory = readPerformanceMemory(env);
  const uasmReason = userAgentSpecificMemoryUnavailableReason(env);
  return {
    performanceMemory:
      memory === undefined
        ? { available: false, reason: 'this browser does not expose performance.memory (only Chromium-based browsers do)' }
        : { available: true, quantized: isQuantizedByteCount(memory.jsHeapSizeLimit), jsHeapSizeLimit: memory.jsHeapSizeLimit },
    userAgentSpecificMemory: uasmReason === undefined ? { available: true } : { available: false, reason: uasmReason },
  };
}
