/**
 * The demo service's data: what a small video-streaming backend serves.
 *
 * - Thumbnails (the image cache, cleanup priority low): pixel rows, 6 to
 *   40 KB each, many of them; on the heap, or in a `Buffer` (see below).
 * - Video metadata (the NexusStore over a MemoryBackend, priority medium):
 *   title, synopsis, cast, renditions and chapters, a few KB each.
 * - Playback segments (the playback buffers, priority high): decoded audio
 *   and video samples, 16 to 64 KB each.
 *
 * Payloads live on the V8 heap (plain arrays and strings), so caching them
 * presses on the heap limit the way a real service's parsed JSON and decoded
 * objects do, except the thumbnails of a run in a container
 * (--memory-limit-mb): there they are `Buffer`s, as a real image cache's
 * bytes are, malloc'd memory that counts against the container's limit but
 * never against `--max-old-space-size`, so only the container signal sees
 * them, and the run has both kinds of memory to keep under the limit. (The
 * heap-capped demo keeps them on the heap: off it, nothing would press on
 * its heap.) Every payload is a pure function of (seed, id), so a run is
 * reproducible.
 */
import { mulberry32 } from './random.js';

export const CATALOG = Object.freeze({
  thumbnails: 40_000,
  videos: 1_200,
  sessions: 300,
  segmentsPerSession: 100,
  /** How many of the most popular videos the service pins (its home page). */
  pinnedVideos: 6,
});

export interface Thumbnail {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  /** On the heap, one number per 8 bytes of payload (V8 stores array elements as 8-byte slots); off it, the bytes. */
  readonly pixels: number[] | Buffer;
}

export interface Chapter {
  readonly title: string;
  readonly startS: number;
}

export interface Rendition {
  readonly height: number;
  readonly bitrateKbps: number;
  readonly codec: string;
}

export interface VideoMetadata {
  readonly id: string;
  readonly title: string;
  readonly synopsis: string;
  readonly genres: string[];
  readonly cast: string[];
  readonly durationS: number;
  readonly renditions: Rendition[];
  readonly chapters: Chapter[];
}

export interface Segment {
  readonly session: number;
  readonly index: number;
  readonly samples: number[];
}

const WORDS = [
  'river', 'signal', 'harbor', 'night', 'orbit', 'glass', 'ember', 'north', 'archive', 'tide', 'circuit', 'meadow',
  'falcon', 'static', 'lantern', 'summit', 'echo', 'copper', 'drift', 'canyon', 'violet', 'engine', 'quiet', 'storm',
];
const GENRES = ['drama', 'documentary', 'comedy', 'thriller', 'animation', 'science', 'history', 'music', 'sport', 'travel'];
const CODECS = ['avc1', 'hvc1', 'av01'];

function rngFor(seed: number, salt: number, id: number) {
  return mulberry32((seed ^ Math.imul(salt, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) >>> 0);
}

function words(random: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(random() * WORDS.length)] as string);
  return out.join(' ');
}

function fill(count: number, random: () => number): number[] {
  const out = new Array<number>(count);
  let x = Math.floor(random() * 256);
  for (let i = 0; i < count; i++) {
    x = (x * 33 + i) & 0xff;
    out[i] = x;
  }
  return out;
}

/** The payload size of a thumbnail, known before it is produced (as an HTTP Content-Length is). */
export function thumbnailBytes(seed: number, id: number): number {
  return 6 * 1024 + Math.floor(rngFor(seed, 1, id)() * 34 * 1024);
}

/** A thumbnail of `thumbnailBytes(seed, id)` bytes: on the heap, or with `offHeap` in a Buffer. */
export function makeThumbnail(seed: number, id: number, offHeap = false): Thumbnail {
  const bytes = thumbnailBytes(seed, id);
  const random = rngFor(seed, 2, id);
  const height = Math.round(bytes / 160);
  if (!offHeap) return { id, width: 160, height, pixels: fill(Math.ceil(bytes / 8), random) };
  // Above Buffer.poolSize / 2, so each thumbnail has its own backing store, freed when it is collected.
  const pixels = Buffer.allocUnsafe(bytes);
  let x = Math.floor(random() * 256);
  for (let i = 0; i < bytes; i++) {
    x = (x * 33 + i) & 0xff;
    pixels[i] = x;
  }
  return { id, width: 160, height, pixels };
}

export function segmentBytes(seed: number, session: number, index: number): number {
  return 16 * 1024 + Math.floor(rngFor(seed, 3, session * 1000 + index)() * 48 * 1024);
}

export function makeSegment(seed: number, session: number, index: number): Segment {
  const bytes = segmentBytes(seed, session, index);
  return { session, index, samples: fill(Math.ceil(bytes / 8), rngFor(seed, 4, session * 1000 + index)) };
}

export function videoId(rank: number): string {
  return `v${String(rank).padStart(5, '0')}`;
}

export function makeVideo(seed: number, rank: number): VideoMetadata {
  const random = rngFor(seed, 5, rank);
  const chapters: Chapter[] = [];
  const durationS = 600 + Math.floor(random() * 6600);
  const chapterCount = 10 + Math.floor(random() * 30);
  for (let i = 0; i < chapterCount; i++) chapters.push({ title: words(random, 3), startS: Math.floor((durationS * i) / chapterCount) });
  return {
    id: videoId(rank),
    title: words(random, 2 + Math.floor(random() * 3)),
    synopsis: words(random, 40 + Math.floor(random() * 60)),
    genres: [GENRES[rank % GENRES.length] as string, GENRES[Math.floor(random() * GENRES.length)] as string],
    cast: Array.from({ length: 4 + Math.floor(random() * 8) }, () => words(random, 2)),
    durationS,
    renditions: [360, 480, 720, 1080, 1440, 2160].map((height, i) => ({
      height,
      bitrateKbps: 400 * (i + 1) + Math.floor(random() * 400),
      codec: CODECS[i % CODECS.length] as string,
    })),
    chapters,
  };
}
