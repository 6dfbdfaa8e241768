// tinylfu's region lists, their cold helpers alone (region-lists.ts): the
// layout is the policy's (two link words per node, nodes 1 to 4 the
// sentinels of window, candidates, probation, protected). The policy's own
// tests exercise them through it (regionOf, the stamps' renumbering).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyRegionLists, nodesInOrder, regionName } from '../../src/cache/policies/tinylfu/region-lists.js';

/** Appends `node` as the newest of `region`'s list, as the policy's #link does. */
function append(links: Int32Array, region: number, node: number): void {
  const newest = links[region * 2]!;
  links[newest * 2 + 1] = node;
  links[node * 2] = newest;
  links[node * 2 + 1] = region;
  links[region * 2] = node;
}

describe('tinylfu region lists', () => {
  it('start empty: each sentinel links to itself, and no node is in order', () => {
    const links = new Int32Array(2 * 12).fill(-1);
    emptyRegionLists(links);
    for (let region = 1; region <= 4; region++) {
      assert.equal(links[region * 2], region, `prev of sentinel ${region}`);
      assert.equal(links[region * 2 + 1], region, `next of sentinel ${region}`);
    }
    assert.deepEqual(nodesInOrder(links), []);
  });

  it('walks the window, the candidates, probation then protected, each oldest first', () => {
    const links = new Int32Array(2 * 16);
    emptyRegionLists(links);
    append(links, 4, 5);
    append(links, 1, 9);
    append(links, 3, 7);
    append(links, 1, 6);
    append(links, 4, 12);
    append(links, 2, 8);
    append(links, 1, 11);
    assert.deepEqual(nodesInOrder(links), [9, 6, 11, 8, 7, 5, 12]);
    // After emptying, the old links are unreachable.
    emptyRegionLists(links);
    assert.deepEqual(nodesInOrder(links), []);
  });

  it('names the region in an entry\'s flags, ignoring the referenced bit; none when detached or never added', () => {
    const names = ['window', 'candidate', 'probation', 'protected'];
    for (let region = 1; region <= 4; region++) {
      assert.equal(regionName(region), names[region - 1]);
      assert.equal(regionName(region | 16), names[region - 1], 'referenced');
      assert.equal(regionName(region | 8), undefined, 'detached (pinned)');
    }
    assert.equal(regionName(0), undefined);
  });
});
