/**
 * The demo's streaming service, composed as the seed's app is: an image cache
 * (cleanup priority low), video metadata in a NexusStore over the embedded
 * MemoryBackend (medium, a few pinned titles) and playback buffers (high),
 * registered as cleaners with a ResourceCleanupCoordinator and all driven by
 * one Node memory monitor.
 *
 * The cache budgets are sized the way they often are in practice: each looks
 * reasonable alone (50%, 10% and 45% of the heap) but together they exceed
 * what the heap holds. Each cache's own watermarks keep it near 0.7 of its
 * budget, and the video metadata fills only about half of its 10% (the
 * whole catalogue is some 4 MB), so at the default 128 MB cap the three
 * stay under the heap's limit, with the heap at `moderate`, and the monitor
 * trims them a batch at a time; with a smaller cap or a longer tail of
 * garbage, its levels make every cache shed before V8 gives up.
 * (bench/demo-sweep.bench.ts compares the service with fixed budgets and no
 * monitor; the metadata's share was 20% until that sweep showed 8 MiB to be
 * all it ever uses, and the big caches use the difference.)
 *
 * The image cache and the playback buffers keep what they evict weakly
 * (`softEviction`): a thumbnail or segment evicted but not yet collected is
 * served again instead of rebuilt. On a heap kept at `moderate` the
 * collector runs every second or so, and those revivals are a few points of
 * hit ratio at no cost in memory (bench/RESULTS.md, "The heap-capped demo
 * against fixed budgets"; the fixed budgets it compares with keep evicted
 * values weakly too).
 *
 * In a container (--memory-limit-mb) the thumbnails are Buffers, off the
 * heap: the image cache's budget is then external memory that only the
 * container signal sees, and the limit counts both kinds.
 *
 * `BaselineService` serves the same requests from plain `Map`s: it never
 * forgets anything, and dies once the working set outgrows the heap.
 */
import {
  CacheCleaner,
  MemoryBackend,
  MemoryManager,
  NexusStore,
  ResourceCleanupCoordinator,
  type CleanupPriority,
  type CleanupResult,
  type EvictionEvent,
  type MemoryMonitor,
  type MemoryPressureLevel,
  type MemoryTelemetry,
} from '../../index.js';
import { CATALOG, makeSegment, makeThumbnail, makeVideo, videoId, type Segment, type Thumbnail, type VideoMetadata } from './catalog.js';
import type { Request } from './workload.js';

export type ComponentName = 'image-cache' | 'video-metadata' | 'playback-buffers';

export interface ComponentStats {
  readonly name: ComponentName;
  readonly priority: CleanupPriority;
  readonly entries: number;
  readonly bytes: number;
  /** The cache's maxCacheBytes; undefined for a plain Map. */
  readonly budgetBytes: number | undefined;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: Readonly<Record<EvictionEvent['reason'], number>>;
  readonly evictedBytes: number;
  /** Hits served by reviving an evicted value the collector had not reclaimed (`softEviction`); counted in `hits`. */
  readonly softHits: number;
  readonly pinned: number;
}

export interface CleanupLogEntry {
  readonly at: number;
  readonly level: MemoryPressureLevel;
  readonly results: readonly CleanupResult[];
}

export interface DemoService {
  readonly kind: 'managed' | 'baseline';
  handle(request: Request): Promise<void> | void;
  components(): ComponentStats[];
  /** Cleanup runs so far (empty for the baseline). */
  readonly cleanupLog: readonly CleanupLogEntry[];
  dispose(): Promise<void>;
}

/** Bytes a payload occupies: 8 per array slot (a Buffer: 1 per byte, off the heap) plus the objects around it. */
function payloadBytes(values: readonly number[] | Buffer): number {
  return Buffer.isBuffer(values) ? values.length + 160 : values.length * 8 + 96;
}

class ComponentCounter implements MemoryTelemetry {
  hits = 0;
  misses = 0;
  evictedBytes = 0;
  readonly evictions: Record<EvictionEvent['reason'], number> = { capacity: 0, pressure: 0, manual: 0 };
  readonly #next: MemoryTelemetry | undefined;

  constructor(next: MemoryTelemetry | undefined) {
    this.#next = next;
  }

  recordCacheSize(bytes: number, entries: number): void {
    this.#next?.recordCacheSize(bytes, entries);
  }

  recordEviction(event: EvictionEvent): void {
    this.evictions[event.reason] += 1;
    this.evictedBytes += event.bytes;
    this.#next?.recordEviction(event);
  }

  recordPressureChange(from: MemoryPressureLevel, to: MemoryPressureLevel): void {
    this.#next?.recordPressureChange(from, to);
  }

  recordError(error: Error): void {
    this.#next?.recordError?.(error);
  }
}

export interface ManagedServiceOptions {
  seed: number;
  /** Thumbnails in Buffers, off the V8 heap (the demo in a container). Default false. */
  offHeapThumbnails?: boolean;
  heapLimitBytes: number;
  monitor: MemoryMonitor;
  now: () => number;
  /** Extra telemetry per component (for example OpenTelemetry); the service counts evictions itself. */
  telemetryFor?: (component: ComponentName) => MemoryTelemetry | undefined;
  /**
   * Fixed budgets instead of the demo's: each cache gets this maxCacheBytes
   * and neither the monitor nor any cleaner (what bench/demo-sweep.bench.ts
   * compares the monitored service with).
   */
  fixedBudgetsBytes?: Readonly<Record<ComponentName, number>>;
}

export class ManagedService implements DemoService {
  readonly kind = 'managed' as const;
  readonly #seed: number;
  readonly #offHeap: boolean;
  readonly #now: () => number;
  readonly #monitor: MemoryMonitor;
  readonly #images: MemoryManager<number, Thumbnail>;
  readonly #store: NexusStore<VideoMetadata, string>;
  readonly #buffers: MemoryManager<string, Segment>;
  readonly #coordinator: ResourceCleanupCoordinator;
  readonly #counters: Record<ComponentName, ComponentCounter>;
  readonly #budgets: Record<ComponentName, number>;
  readonly #log: CleanupLogEntry[] = [];
  readonly #disposers: Array<() => void> = [];

  static async create(options: ManagedServiceOptions): Promise<ManagedService> {
    const backend = new MemoryBackend<VideoMetadata, string>({ idOf: (video) => video.id });
    for (let rank = 0; rank < CATALOG.videos; rank++) await backend.save(makeVideo(options.seed, rank));
    const service = new ManagedService(options, backend);
    // The home page's titles: pinned, so no pressure level ever evicts them.
    for (let rank = 0; rank < CATALOG.pinnedVideos; rank++) await service.#store.pin(makeVideo(options.seed, rank).id);
    return service;
  }

  private constructor(options: ManagedServiceOptions, backend: MemoryBackend<VideoMetadata, string>) {
    this.#seed = options.seed;
    this.#offHeap = options.offHeapThumbnails ?? false;
    this.#now = options.now;
    this.#monitor = options.monitor;
    const heap = options.heapLimitBytes;
    const fixed = options.fixedBudgetsBytes;
    this.#budgets =
      fixed === undefined
        ? { 'image-cache': Math.round(heap * 0.5), 'video-metadata': Math.round(heap * 0.1), 'playback-buffers': Math.round(heap * 0.45) }
        : { ...fixed };
    const monitored = fixed === undefined ? { pressureHandler: options.monitor } : {};
    const counter = (name: ComponentName) => new ComponentCounter(options.telemetryFor?.(name));
    this.#counters = { 'image-cache': counter('image-cache'), 'video-metadata': counter('video-metadata'), 'playback-buffers': counter('playback-buffers') };
    this.#images = new MemoryManager<number, Thumbnail>({
      maxCacheBytes: this.#budgets['image-cache'],
      strategy: 'lru',
      softEviction: true,
      ...monitored,
      telemetry: this.#counters['image-cache'],
    });
    this.#store = new NexusStore<VideoMetadata, string>({
      backend,
      idOf: (video) => video.id,
      config: {
        memory: {
          maxCacheBytes: this.#budgets['video-metadata'],
          strategy: 'lfu',
          ...monitored,
          telemetry: this.#counters['video-metadata'],
        },
      },
    });
    this.#buffers = new MemoryManager<string, Segment>({
      maxCacheBytes: this.#budgets['playback-buffers'],
      strategy: 'lru',
      softEviction: true,
      ...monitored,
      telemetry: this.#counters['playback-buffers'],
    });
    this.#coordinator = new ResourceCleanupCoordinator({ memoryMonitor: options.monitor });
    if (fixed !== undefined) return;
    const store = this.#store;
    this.#coordinator.register(new CacheCleaner({ name: 'image-cache', priority: 'low', cache: this.#images }));
    // The store trims its cache (pins kept) as the level asks, instead of emptying it.
    this.#coordinator.register(new CacheCleaner({ name: 'video-metadata', priority: 'medium', cache: store }));
    this.#coordinator.register(new CacheCleaner({ name: 'playback-buffers', priority: 'high', cache: this.#buffers }));
    const subscription = this.#coordinator.results.subscribe((results) => {
      this.#log.push({ at: this.#now(), level: this.#monitor.currentPressure(), results });
    });
    this.#disposers.push(() => subscription.unsubscribe(), this.#coordinator.enableAutoCleanup());
  }

  get cleanupLog(): readonly CleanupLogEntry[] {
    return this.#log;
  }

  handle(request: Request): Promise<void> | void {
    switch (request.kind) {
      case 'thumbnail': {
        const counter = this.#counters['image-cache'];
        if (this.#images.get(request.id) !== undefined) {
          counter.hits++;
          return;
        }
        counter.misses++;
        const thumbnail = makeThumbnail(this.#seed, request.id, this.#offHeap);
        this.#images.set(request.id, thumbnail, { size: payloadBytes(thumbnail.pixels) });
        return;
      }
      case 'segment': {
        const counter = this.#counters['playback-buffers'];
        const key = `${request.session}/${request.index}`;
        if (this.#buffers.get(key) !== undefined) {
          counter.hits++;
          return;
        }
        counter.misses++;
        const segment = makeSegment(this.#seed, request.session, request.index);
        this.#buffers.set(key, segment, { size: payloadBytes(segment.samples) });
        return;
      }
      case 'video':
        return this.#video(request.rank);
    }
  }

  async #video(rank: number): Promise<void> {
    const counter = this.#counters['video-metadata'];
    const before = this.#store.memoryMetrics.hits;
    const video = await this.#store.get(videoId(rank));
    if (video === undefined) throw new Error(`video rank ${rank} is missing from the catalogue`);
    if (this.#store.memoryMetrics.hits > before) counter.hits++;
    else counter.misses++;
  }

  components(): ComponentStats[] {
    const images = this.#images.metrics;
    const videos = this.#store.memoryMetrics;
    const buffers = this.#buffers.metrics;
    const stats = (name: ComponentName, priority: CleanupPriority, m: typeof images): ComponentStats => {
      const counter = this.#counters[name];
      return {
        name,
        priority,
        entries: m.entryCount,
        bytes: m.currentUsage,
        budgetBytes: this.#budgets[name],
        hits: counter.hits,
        misses: counter.misses,
        evictions: { ...counter.evictions },
        evictedBytes: counter.evictedBytes,
        softHits: m.softHits,
        pinned: m.pinnedCount,
      };
    };
    return [stats('image-cache', 'low', images), stats('video-metadata', 'medium', videos), stats('playback-buffers', 'high', buffers)];
  }

  async dispose(): Promise<void> {
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#images.dispose();
    this.#buffers.dispose();
    await this.#store.dispose();
  }
}

/** The same service with plain Maps: what the library replaces. */
export class BaselineService implements DemoService {
  readonly kind = 'baseline' as const;
  readonly cleanupLog: readonly CleanupLogEntry[] = [];
  readonly #seed: number;
  readonly #offHeap: boolean;
  readonly #backend: MemoryBackend<VideoMetadata, string>;
  readonly #images = new Map<number, Thumbnail>();
  readonly #videos = new Map<string, VideoMetadata>();
  readonly #buffers = new Map<string, Segment>();
  readonly #bytes: Record<ComponentName, number> = { 'image-cache': 0, 'video-metadata': 0, 'playback-buffers': 0 };
  readonly #hits: Record<ComponentName, number> = { 'image-cache': 0, 'video-metadata': 0, 'playback-buffers': 0 };
  readonly #misses: Record<ComponentName, number> = { 'image-cache': 0, 'video-metadata': 0, 'playback-buffers': 0 };

  /** `offHeapThumbnails`: thumbnails in Buffers, off the V8 heap (the demo in a container). */
  static async create(seed: number, offHeapThumbnails = false): Promise<BaselineService> {
    const backend = new MemoryBackend<VideoMetadata, string>({ idOf: (video) => video.id });
    for (let rank = 0; rank < CATALOG.videos; rank++) await backend.save(makeVideo(seed, rank));
    return new BaselineService(seed, backend, offHeapThumbnails);
  }

  private constructor(seed: number, backend: MemoryBackend<VideoMetadata, string>, offHeap: boolean) {
    this.#seed = seed;
    this.#offHeap = offHeap;
    this.#backend = backend;
  }

  handle(request: Request): Promise<void> | void {
    switch (request.kind) {
      case 'thumbnail': {
        if (this.#images.has(request.id)) {
          this.#hits['image-cache']++;
          return;
        }
        this.#misses['image-cache']++;
        const thumbnail = makeThumbnail(this.#seed, request.id, this.#offHeap);
        this.#images.set(request.id, thumbnail);
        this.#bytes['image-cache'] += payloadBytes(thumbnail.pixels);
        return;
      }
      case 'segment': {
        const key = `${request.session}/${request.index}`;
        if (this.#buffers.has(key)) {
          this.#hits['playback-buffers']++;
          return;
        }
        this.#misses['playback-buffers']++;
        const segment = makeSegment(this.#seed, request.session, request.index);
        this.#buffers.set(key, segment);
        this.#bytes['playback-buffers'] += payloadBytes(segment.samples);
        return;
      }
      case 'video':
        return this.#video(videoId(request.rank));
    }
  }

  async #video(id: string): Promise<void> {
    if (this.#videos.has(id)) {
      this.#hits['video-metadata']++;
      return;
    }
    this.#misses['video-metadata']++;
    const video = await this.#backend.get(id);
    if (video === undefined) throw new Error(`video ${id} is missing from the catalogue`);
    this.#videos.set(id, video);
    this.#bytes['video-metadata'] += JSON.stringify(video).length * 2;
  }

  components(): ComponentStats[] {
    const none = { capacity: 0, pressure: 0, manual: 0 };
    const stats = (name: ComponentName, priority: CleanupPriority, entries: number): ComponentStats => ({
      name,
      priority,
      entries,
      bytes: this.#bytes[name],
      budgetBytes: undefined,
      hits: this.#hits[name],
      misses: this.#misses[name],
      evictions: none,
      evictedBytes: 0,
      softHits: 0,
      pinned: 0,
    });
    return [
      stats('image-cache', 'low', this.#images.size),
      stats('video-metadata', 'medium', this.#videos.size),
      stats('playback-buffers', 'high', this.#buffers.size),
    ];
  }

  async dispose(): Promise<void> {
    this.#images.clear();
    this.#videos.clear();
    this.#buffers.clear();
  }
}
