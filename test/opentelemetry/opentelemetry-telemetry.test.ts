import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  ATTRIBUTE_NAMES,
  INSTRUMENT_NAMES,
  createOpenTelemetryTelemetry,
} from '../../src/opentelemetry/index.js';

/** A reader the test collects from on demand (cumulative temporality). */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.collect();
    assert.deepEqual(errors, []);
    const out = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
    return out;
  }
}

function setup() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('nexus-store-test');
  return { reader, provider, meter };
}

function points(metric: MetricData | undefined): DataPoint<unknown>[] {
  assert.ok(metric, 'metric was exported');
  return metric.dataPoints as DataPoint<unknown>[];
}

function pointWith(metric: MetricData | undefined, attrs: Record<string, unknown>): DataPoint<unknown> | undefined {
  return points(metric).find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

describe('createOpenTelemetryTelemetry', () => {
  test('reports cache bytes and entries as gauges in By and {entry}, the latest value winning', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordCacheSize(1000, 3);
    telemetry.recordCacheSize(4096, 7);
    const m = await reader.metrics();
    const size = m.get(INSTRUMENT_NAMES.cacheSize);
    const entries = m.get(INSTRUMENT_NAMES.cacheEntryCount);
    assert.equal(size?.descriptor.unit, 'By');
    assert.equal(size?.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(points(size).map((p) => p.value), [4096]);
    assert.equal(entries?.descriptor.unit, '{entry}');
    assert.deepEqual(points(entries).map((p) => p.value), [7]);
  });

  test('exports no gauge point before the first report', async () => {
    const { reader, meter } = setup();
    createOpenTelemetryTelemetry({ meter });
    const m = await reader.metrics();
    assert.equal(m.get(INSTRUMENT_NAMES.cacheSize)?.dataPoints.length ?? 0, 0);
    assert.equal(m.get(INSTRUMENT_NAMES.pressureLevel)?.dataPoints.length ?? 0, 0);
  });

  test('counts evictions by reason and level, and evicted bytes by reason', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordEviction({ key: 'a', bytes: 100, reason: 'capacity', level: 'normal' });
    telemetry.recordEviction({ key: 'b', bytes: 50, reason: 'capacity', level: 'normal' });
    telemetry.recordEviction({ key: 'c', bytes: 10, reason: 'pressure', level: 'critical' });
    const m = await reader.metrics();
    const evictions = m.get(INSTRUMENT_NAMES.evictions);
    assert.equal(evictions?.descriptor.unit, '{eviction}');
    assert.equal(evictions?.dataPointType, DataPointType.SUM);
    assert.equal(pointWith(evictions, { [ATTRIBUTE_NAMES.evictionReason]: 'capacity', [ATTRIBUTE_NAMES.pressureLevel]: 'normal' })?.value, 2);
    assert.equal(pointWith(evictions, { [ATTRIBUTE_NAMES.evictionReason]: 'pressure', [ATTRIBUTE_NAMES.pressureLevel]: 'critical' })?.value, 1);
    const bytes = m.get(INSTRUMENT_NAMES.evictedBytes);
    assert.equal(bytes?.descriptor.unit, 'By');
    assert.equal(pointWith(bytes, { [ATTRIBUTE_NAMES.evictionReason]: 'capacity' })?.value, 150);
    assert.equal(pointWith(bytes, { [ATTRIBUTE_NAMES.evictionReason]: 'pressure' })?.value, 10);
  });

  test('reports the pressure level as a documented rank and counts each change', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordPressureChange('normal', 'critical');
    let m = await reader.metrics();
    const level = m.get(INSTRUMENT_NAMES.pressureLevel);
    assert.match(level?.descriptor.description ?? '', /0 normal, 1 moderate, 2 critical, 3 emergency/);
    assert.deepEqual(points(level).map((p) => p.value), [2]);
    telemetry.recordPressureChange('critical', 'moderate');
    telemetry.recordPressureChange('moderate', 'emergency');
    m = await reader.metrics();
    assert.deepEqual(points(m.get(INSTRUMENT_NAMES.pressureLevel)).map((p) => p.value), [3]);
    const changes = m.get(INSTRUMENT_NAMES.pressureChanges);
    assert.equal(changes?.descriptor.unit, '{change}');
    assert.equal(
      pointWith(changes, { [ATTRIBUTE_NAMES.pressureLevel]: 'emergency', [ATTRIBUTE_NAMES.previousPressureLevel]: 'moderate' })?.value,
      1,
    );
    assert.equal(points(changes).reduce((sum, p) => sum + (p.value as number), 0), 3);
  });

  test('ignores a pressure change to something that is not a level, even an Object.prototype name', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordPressureChange('normal', 'toString' as never);
    telemetry.recordPressureChange('normal', 'severe' as never);
    const m = await reader.metrics();
    assert.equal(m.get(INSTRUMENT_NAMES.pressureLevel)?.dataPoints.length ?? 0, 0);
    assert.equal(m.get(INSTRUMENT_NAMES.pressureChanges)?.dataPoints.length ?? 0, 0);
  });

  test('records cleanup durations in seconds by cleaner name and success, and bytes freed', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordCleanup([
      { cleanerName: 'images', bytesFreed: 2048, success: true, durationMs: 12 },
      { cleanerName: 'buffers', bytesFreed: 0, success: false, error: 'timed out after 5000 ms', durationMs: 5000 },
    ]);
    telemetry.recordCleanup([{ cleanerName: 'images', bytesFreed: 1024, success: true, durationMs: 8 }]);
    const m = await reader.metrics();
    const duration = m.get(INSTRUMENT_NAMES.cleanupDuration);
    assert.equal(duration?.descriptor.unit, 's');
    assert.equal(duration?.dataPointType, DataPointType.HISTOGRAM);
    const images = pointWith(duration, { [ATTRIBUTE_NAMES.cleanerName]: 'images', [ATTRIBUTE_NAMES.cleanupSuccess]: true });
    const imageHistogram = images?.value as Histogram;
    assert.equal(imageHistogram.count, 2);
    assert.ok(Math.abs((imageHistogram.sum ?? 0) - 0.02) < 1e-9, `sum ${imageHistogram.sum} is 0.020 s`);
    const failed = pointWith(duration, { [ATTRIBUTE_NAMES.cleanerName]: 'buffers', [ATTRIBUTE_NAMES.cleanupSuccess]: false });
    assert.equal((failed?.value as Histogram).max, 5);
    // Bucket boundaries are in seconds, so the 5 s timeout lands in a real bucket, not the overflow.
    assert.ok((failed?.value as Histogram).buckets.boundaries.includes(5));
    const freed = m.get(INSTRUMENT_NAMES.cleanupFreed);
    assert.equal(freed?.descriptor.unit, 'By');
    assert.equal(pointWith(freed, { [ATTRIBUTE_NAMES.cleanerName]: 'images' })?.value, 3072);
    assert.equal(pointWith(freed, { [ATTRIBUTE_NAMES.cleanerName]: 'buffers' }), undefined);
  });

  test('counts errors by error.type', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordError(new RangeError('size estimator returned NaN'));
    telemetry.recordError(new RangeError('again'));
    telemetry.recordError(new Error('provider failed'));
    const m = await reader.metrics();
    const errors = m.get(INSTRUMENT_NAMES.errors);
    assert.equal(errors?.descriptor.unit, '{error}');
    assert.equal(pointWith(errors, { 'error.type': 'RangeError' })?.value, 2);
    assert.equal(pointWith(errors, { 'error.type': 'Error' })?.value, 1);
  });

  test('keeps several caches on one meter apart by their attributes', async () => {
    const { reader, meter } = setup();
    const images = createOpenTelemetryTelemetry({ meter, attributes: { 'nexus_store.cache.name': 'images' } });
    const videos = createOpenTelemetryTelemetry({ meter, attributes: { 'nexus_store.cache.name': 'videos' } });
    images.recordCacheSize(100, 1);
    videos.recordCacheSize(900, 9);
    videos.recordEviction({ key: 'x', bytes: 1, reason: 'manual', level: 'normal' });
    const m = await reader.metrics();
    const size = m.get(INSTRUMENT_NAMES.cacheSize);
    assert.equal(pointWith(size, { 'nexus_store.cache.name': 'images' })?.value, 100);
    assert.equal(pointWith(size, { 'nexus_store.cache.name': 'videos' })?.value, 900);
    const evictions = m.get(INSTRUMENT_NAMES.evictions);
    assert.equal(pointWith(evictions, { 'nexus_store.cache.name': 'videos', [ATTRIBUTE_NAMES.evictionReason]: 'manual' })?.value, 1);
    assert.equal(pointWith(evictions, { 'nexus_store.cache.name': 'images' }), undefined);
  });

  test('dispose stops reporting the gauges of that telemetry only', async () => {
    const { reader, meter } = setup();
    const a = createOpenTelemetryTelemetry({ meter, attributes: { cache: 'a' } });
    const b = createOpenTelemetryTelemetry({ meter, attributes: { cache: 'b' } });
    a.recordCacheSize(1, 1);
    b.recordCacheSize(2, 2);
    a.dispose();
    a.dispose();
    const m = await reader.metrics();
    const size = points(m.get(INSTRUMENT_NAMES.cacheSize));
    assert.deepEqual(size.map((p) => [p.attributes['cache'], p.value]), [['b', 2]]);
  });

  test('clamps negative and NaN measurements to zero instead of corrupting sums', async () => {
    const { reader, meter } = setup();
    const telemetry = createOpenTelemetryTelemetry({ meter });
    telemetry.recordCacheSize(Number.NaN, -3);
    telemetry.recordEviction({ key: 'a', bytes: -10, reason: 'capacity', level: 'normal' });
    const m = await reader.metrics();
    assert.deepEqual(points(m.get(INSTRUMENT_NAMES.cacheSize)).map((p) => p.value), [0]);
    assert.deepEqual(points(m.get(INSTRUMENT_NAMES.cacheEntryCount)).map((p) => p.value), [0]);
    assert.equal(points(m.get(INSTRUMENT_NAMES.evictedBytes))[0]?.value, 0);
  });

  test('with the API global meter: records nothing (and throws nothing) before an SDK is registered; created after, it exports', async () => {
    const early = createOpenTelemetryTelemetry({ meter: metrics.getMeter('no-sdk'), attributes: { cache: 'early' } });
    early.recordCacheSize(1, 1);
    early.recordEviction({ key: 'a', bytes: 1, reason: 'capacity', level: 'normal' });
    early.recordCleanup([{ cleanerName: 'x', bytesFreed: 1, success: true, durationMs: 1 }]);
    const { reader, provider } = setup();
    assert.equal(metrics.setGlobalMeterProvider(provider), true);
    try {
      const late = createOpenTelemetryTelemetry({ meter: metrics.getMeter('with-sdk'), attributes: { cache: 'late' } });
      late.recordCacheSize(2, 1);
      late.recordEviction({ key: 'b', bytes: 7, reason: 'capacity', level: 'normal' });
      // The API's meter is not a proxy: one taken before registration stays a no-op.
      early.recordCacheSize(5, 5);
      early.recordEviction({ key: 'c', bytes: 9, reason: 'capacity', level: 'normal' });
      const m = await reader.metrics();
      assert.deepEqual(points(m.get(INSTRUMENT_NAMES.cacheSize)).map((p) => [p.attributes['cache'], p.value]), [['late', 2]]);
      assert.deepEqual(points(m.get(INSTRUMENT_NAMES.evictedBytes)).map((p) => [p.attributes['cache'], p.value]), [['late', 7]]);
      late.dispose();
      early.dispose();
    } finally {
      metrics.disable();
    }
  });

  test('rejects a missing or wrong meter with a TypeError naming meter', () => {
    assert.throws(() => createOpenTelemetryTelemetry(undefined as never), /options must be an object/);
    assert.throws(() => createOpenTelemetryTelemetry({} as never), (e: unknown) => e instanceof TypeError && /meter must be an OpenTelemetry Meter.*undefined/.test(e.message));
    assert.throws(() => createOpenTelemetryTelemetry({ meter: 'meter' as never }), /meter must be an OpenTelemetry Meter .*got string meter/);
    assert.throws(
      () => createOpenTelemetryTelemetry({ meter: { createCounter() {} } as never }),
      /meter must be an OpenTelemetry Meter .*got an object without createHistogram/,
    );
  });

  test('rejects attribute values that are not attribute values, naming the key', () => {
    const { meter } = setup();
    assert.throws(() => createOpenTelemetryTelemetry({ meter, attributes: 'x' as never }), /attributes must be an object/);
    assert.throws(() => createOpenTelemetryTelemetry({ meter, attributes: { cache: { nested: true } } as never }), /attributes\.cache must be/);
  });
});
