// The adapter plugged into the real components: what a user's exporter would receive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { CacheCleaner, ManualClock, MemoryManager, PollingMemoryMonitor, ResourceCleanupCoordinator } from '../../src/index.js';
import { ATTRIBUTE_NAMES, INSTRUMENT_NAMES, createOpenTelemetryTelemetry } from '../../src/opentelemetry/index.js';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
  async byName(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => [m.descriptor.name, m] as const)));
  }
}

function sum(metric: MetricData | undefined, attrs: Record<string, unknown> = {}): number {
  assert.ok(metric, 'metric exported');
  return (metric.dataPoints as DataPoint<number>[])
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((s, p) => s + p.value, 0);
}

test('a MemoryManager, a coordinator and a monitor report through the adapter to the SDK', async () => {
  const reader = new CollectingReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('wiring');
  const telemetry = createOpenTelemetryTelemetry({ meter, attributes: { 'nexus_store.cache.name': 'images' } });

  const cache = new MemoryManager<string, string>({ maxCacheBytes: 1000, telemetry, sizeEstimator: (v) => (v === 'boom' ? Number.NaN : 100) });
  for (let i = 0; i < 30; i++) cache.set(`k${i}`, 'x');
  cache.set('bad', 'boom');
  cache.handlePressure('emergency');

  const clock = new ManualClock();
  const monitor = new PollingMemoryMonitor({
    memoryProvider: () => {
      throw new Error('provider down');
    },
    clock,
    telemetry,
  });
  await monitor.poll();

  const coordinator = new ResourceCleanupCoordinator({ telemetry });
  coordinator.register(new CacheCleaner({ name: 'images', priority: 'low', cache }));
  cache.set('again', 'x', { size: 200 });
  await coordinator.cleanupAll();
  // Pinned bytes alone over the budget: the cache's level becomes emergency.
  cache.set('pinned', 'x', { size: 1200, pin: true });

  const m = await reader.byName();
  const evictions = m.get(INSTRUMENT_NAMES.evictions);
  assert.ok(sum(evictions, { [ATTRIBUTE_NAMES.evictionReason]: 'pressure' }) > 0, 'watermark and emergency evictions counted');
  assert.equal(sum(evictions), cache.metrics.evictionCount);
  // Everything unpinned was shed (emergency, then the cleaner): only the pinned entry is left.
  assert.equal(sum(m.get(INSTRUMENT_NAMES.cacheSize), { 'nexus_store.cache.name': 'images' }), 1200);
  assert.equal(sum(m.get(INSTRUMENT_NAMES.cacheEntryCount)), 1);
  assert.deepEqual([cache.metrics.currentUsage, cache.metrics.entryCount], [1200, 1]);
  const duration = (m.get(INSTRUMENT_NAMES.cleanupDuration)?.dataPoints as DataPoint<Histogram>[] | undefined)?.find(
    (p) => p.attributes[ATTRIBUTE_NAMES.cleanerName] === 'images' && p.attributes[ATTRIBUTE_NAMES.cleanupSuccess] === true,
  );
  assert.equal(duration?.value.count, 1);
  assert.equal(sum(m.get(INSTRUMENT_NAMES.cleanupFreed), { [ATTRIBUTE_NAMES.cleanerName]: 'images' }), 200);
  assert.equal(sum(m.get(INSTRUMENT_NAMES.errors)), 2, 'the NaN size estimate and the failing provider, each counted once');
  // The cache's level changed once: to emergency when the pinned bytes alone passed the budget.
  assert.equal(sum(m.get(INSTRUMENT_NAMES.pressureChanges)), 1);
  assert.equal(sum(m.get(INSTRUMENT_NAMES.pressureChanges), { [ATTRIBUTE_NAMES.pressureLevel]: 'emergency', [ATTRIBUTE_NAMES.previousPressureLevel]: 'normal' }), 1);
  assert.equal(sum(m.get(INSTRUMENT_NAMES.pressureLevel)), 3);
  cache.dispose();
});
