/**
 * The cold helpers of tinylfu's region lists (w-tinylfu-policy.ts): setting them up, walking them
 * in order, naming a region. The layout (docs/design/tinylfu.md, "Lists and sentinels"): one
 * Int32Array of links, two words per node (`prev`, then `next`); nodes 1 to 4 are the sentinels of
 * the window, the candidates, probation and protected, and a list is empty when its sentinel links
 * to itself. (The policy keeps its candidates at the old end of the window's list, so their own
 * list stays empty: docs/design/tinylfu.md, "The candidates in the window's list".)
 *
 * The lists' hot operations (link, unlink, a second chance, a move) stay methods of the policy, with
 * its own copies of these constants: an imported constant or function is read from its module's
 * cell at every use (docs/design/tinylfu.md, "Layout across files, and what it costs"). Nothing here
 * runs on a request's path.
 */

// The policy's layout, repeated (see above); its tests exercise these helpers through it (regionOf, renumbering).
const WINDOW = 1;
const CANDIDATE = 2;
const PROBATION = 3;
const PROTECTED = 4;
const REGION_MASK = 7;
const DETACHED = 8;
const PREV = 0;
const NEXT = 1;

export type RegionName = 'window' | 'candidate' | 'probation' | 'protected';

/** Makes every region's list empty: each sentinel links to itself. */
export function emptyRegionLists(links: Int32Array): void {
  for (let region = WINDOW; region <= PROTECTED; region++) {
    links[region * 2 + PREV] = region;
    links[region * 2 + NEXT] = region;
  }
}

/** The nodes in the lists: the window's, the candidates', probation's, then protected's, each oldest first. */
export function nodesInOrder(links: Int32Array): number[] {
  const inOrder: number[] = [];
  for (let region = WINDOW; region <= PROTECTED; region++) {
    for (let node = links[region * 2 + NEXT]!; node !== region; node = links[node * 2 + NEXT]!) inOrder.push(node);
  }
  return inOrder;
}

/** The region an entry's flags place it in, or undefined when it is out of the order (pinned, or never added). */
export function regionName(flags: number): RegionName | undefined {
  const r = flags & (REGION_MASK | DETACHED);
  return r === WINDOW ? 'window' : r === CANDIDATE ? 'candidate' : r === PROBATION ? 'probation' : r === PROTECTED ? 'protected' : undefined;
}
