/**
 * The demo service's data: what a small video-streaming backend serves.
 *
 * - Thumbnails (the image cache, cleanup priority low): decoded pixel rows,
 *   6 to 40 KB each, many of them.
 * - Video metadata (the NexusStore over a MemoryBackend, priority medium):
 *   title, synopsis, cast, renditions and chapters, a few KB each.
 * - Playback segments (the playback buffers, priority high): decoded audio
 *   and video samples, 16 to 64 KB each.
 *
 * Payloads live on the V8 heap (plain arrays and strings, not Buffers, whose
 * bytes are outside the heap), so caching them presses on the heap limit the
 * way a real service's parsed JSON and decoded objects do. Every payload is a
 * pure function of (seed, id), so a run is reproducible.
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
  /** One number per 8 bytes of payload: V8 stores array elements as 8-byte slots. */
  readonly pixels: number[];
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

export function makeThumbnail(seed: number, id: number): Thumbnail {
  const bytes = thumbnailBytes(seed, id);
  const random = rngFor(seed, 2, id);
  return { id, width: 160, height: Math.round(bytes / 160), pixels: fill(Math.ceil(bytes / 8), random) };
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
