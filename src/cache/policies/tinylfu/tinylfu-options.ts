/** The options of `WTinyLfuPolicy` (w-tinylfu-policy.ts). */
export interface TinyLfuOptions {
  /** The cache's byte budget, when it has one; otherwise the peak of the bytes held stands in. */
  maxBytes?: number | undefined;
  /** Seed for the key hash and the random admission; random by default. */
  seed?: number;
  /** Where the use stamps start: 0, except in tests of their renumbering. */
  firstStamp?: number;
}
