/**
 * defaultSizeEstimator against the heap V8 really retains: copies of each
 * shape are kept alive, gc() runs, and the heap growth per copy is compared
 * with the estimate. Needs gc() (see test/helpers/gc.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSizeEstimator } from '../../src/cache/size-estimator.js';
import { SHAPES, measureRetainedBytes } from './size-estimator-shapes.js';
import type { Shape } from './size-estimator-shapes.js';
import { needsGc } from '../helpers/gc.js';

const TOLERANCE = 0.2;

function retained(shape: Shape): number {
  const copies = Math.max(300, Math.min(5000, Math.round(4e6 / defaultSizeEstimator(shape.make(0)))));
  const runs = [measureRetainedBytes(shape, copies), measureRetainedBytes(shape, copies), measureRetainedBytes(shape, copies)];
  return runs.sort((a, b) => a - b)[1] as number;
}

function meanEstimate(shape: Shape): number {
  let sum = 0;
  for (let i = 0; i < 100; i++) sum += defaultSizeEstimator(shape.make(i));
  return sum / 100;
}

const pad = (i: number): string => String(i).padStart(8, '0');
/**
 * A flat copy of a string. Template literals build ropes (a 32-byte cons
 * cell per concatenation) that the estimator counts as the flat string they
 * flatten into; parsed data, the usual cache content, is flat already.
 */
const flat = (s: string): string => s.split('').join('');
const MORE_KINDS: readonly Shape[] = [
  { name: 'records mixing doubles, strings and nested arrays', make: (i) => ({ id: i, at: i + 0.25, tags: [flat(`t${pad(i)}`), 1.5], child: { label: flat(`c${pad(i)}`) } }) },
  { name: 'Map of string keys to objects', make: (i) => new Map(Array.from({ length: 20 }, (_, k) => [flat(`key-${pad(i)}-${k}`), { k }])) },
  { name: 'Set of doubles', make: (i) => new Set(Array.from({ length: 50 }, (_, k) => i + k + 0.5)) },
  { name: 'two-byte strings in an array', make: (i) => Array.from({ length: 10 }, (_, k) => flat(`名前-${pad(i)}-${k}`)) },
  { name: 'typed arrays of 4 KB', make: (i) => ({ samples: new Float32Array(1024).fill(i) }) },
  { name: 'small typed arrays kept on the heap', make: (i) => [new Uint8Array(8).fill(i), new Uint16Array(4)] },
  { name: 'objects with 200 unique keys (dictionary mode)', make: (i) => JSON.parse(`{${Array.from({ length: 200 }, (_, k) => `"${pad(i)}-${k}":${k}`).join(',')}}`) },
];

describe('defaultSizeEstimator matches the retained heap within ±20%', needsGc, () => {
  for (const shape of [...SHAPES, ...MORE_KINDS]) {
    test(shape.name, () => {
      const actual = retained(shape);
      const estimate = meanEstimate(shape);
      const error = estimate / actual - 1;
      assert.ok(Math.abs(error) <= TOLERANCE, `estimated ${estimate.toFixed(0)} bytes, retained ${actual.toFixed(0)} (${(error * 100).toFixed(1)}%)`);
    });
  }
});
