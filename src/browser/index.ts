// nexus-store/browser: memory signals of web pages and a monitor over them.
// Imports nothing but the core's own modules: no Node built-ins, no packages.

export { createBrowserMemoryMonitor, BrowserMemoryMonitor } from './browser-memory-monitor.js';
export type { BrowserMemoryMonitorOptions } from './browser-memory-monitor.js';

export { performanceMemoryProvider, heapBudgetBytes, DEFAULT_HEAP_LIMIT_FRACTION } from './performance-memory-provider.js';
export type { PerformanceMemoryProviderOptions } from './performance-memory-provider.js';
export { uaSpecificMemoryProvider, DEFAULT_MEASURE_INTERVAL_MS } from './ua-specific-memory-provider.js';
export type { UserAgentSpecificMemoryProviderOptions } from './ua-specific-memory-provider.js';
export { budgetProvider } from './budget-provider.js';
export type { BudgetProviderOptions } from './budget-provider.js';

export { BROWSER_MEMORY_SOURCES, detectBrowserMemorySupport, isQuantizedByteCount } from './environment.js';
export type {
  BrowserMemoryEnvironment,
  BrowserMemorySourceName,
  BrowserMemorySupport,
  PerformanceLike,
  PerformanceMemoryInfo,
  UserAgentSpecificMemoryResult,
} from './environment.js';
