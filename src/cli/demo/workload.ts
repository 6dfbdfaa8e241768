/**
 * The demo's request stream: a fixed mix of request kinds, each kind's key
 * drawn from a Zipf popularity curve, all from one seeded PRNG, so the same
 * seed gives the same sequence of requests.
 */
import { CATALOG } from './catalog.js';
import { mulberry32, ZipfSampler, type Random } from './random.js';

export type Request =
  | { readonly kind: 'thumbnail'; readonly id: number }
  | { readonly kind: 'video'; readonly rank: number }
  | { readonly kind: 'segment'; readonly session: number; readonly index: number };

/** Share of each request kind, in [0, 1], summing to 1. */
export const REQUEST_MIX = Object.freeze({ thumbnail: 0.5, video: 0.3, segment: 0.2 });

/** Zipf exponents: thumbnails and videos follow the usual ~0.9 catalogue skew; viewers concentrate on fewer sessions. */
const EXPONENTS = Object.freeze({ thumbnail: 0.9, video: 0.9, session: 1.1 });

export class Workload {
  readonly #random: Random;
  readonly #thumbnails = new ZipfSampler(CATALOG.thumbnails, EXPONENTS.thumbnail);
  readonly #videos = new ZipfSampler(CATALOG.videos, EXPONENTS.video);
  readonly #sessions = new ZipfSampler(CATALOG.sessions, EXPONENTS.session);

  constructor(seed: number) {
    this.#random = mulberry32(seed);
  }

  next(): Request {
    const u = this.#random();
    if (u < REQUEST_MIX.thumbnail) return { kind: 'thumbnail', id: this.#thumbnails.sample(this.#random) };
    if (u < REQUEST_MIX.thumbnail + REQUEST_MIX.video) return { kind: 'video', rank: this.#videos.sample(this.#random) };
    const session = this.#sessions.sample(this.#random);
    return { kind: 'segment', session, index: Math.floor(this.#random() * CATALOG.segmentsPerSession) };
  }
}
