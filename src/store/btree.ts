/**
 * A sorted map from binary-string keys (compared in byte order with `<`) to values: a B+ tree
 * whose clone is O(1) and copy-on-write, so a checkpoint or a scan reads a snapshot while
 * writers go on.
 *
 * `set` and `delete` return the value they replaced or removed, so an applied write descends the
 * tree once (the store's byte accounting needs the old value), and keys are compared with the
 * string operators rather than through a comparator function.
 *
 * Copy-on-write: a node reachable from more than one tree is marked `shared` and never changed
 * again; a writer copies it first (`own`), and a copied internal node marks its children shared,
 * since two parents now hold them. The mark is never cleared: a tree left as the only holder
 * of a shared node still copies it once, which costs a copy and nothing else.
 */
import { assert } from "../assert.js";

/** Entries of a leaf, children of an internal node, at most (sorted-btree's default). */
export const NODE_ENTRIES_MAX = 32;
/** Below this a node takes entries from a neighbour or merges with it. A quarter, not half: inserting and deleting at the boundary would otherwise merge and split again and again. */
const NODE_ENTRIES_MIN = NODE_ENTRIES_MAX / 4;

class Leaf<V> {
  readonly isLeaf = true;
  shared = false;
  constructor(
    public keys: string[],
    public values: V[],
  ) {}
}

/**
 * `keys[i]` is a lower bound of the keys under `children[i]`, and every key under
 * `children[i - 1]` is below it; `keys[0]` is never consulted. A bound may be lower than the
 * smallest key under its child after deletes: it still separates.
 */
class Internal<V> {
  readonly isLeaf = false;
  shared = false;
  constructor(
    public keys: string[],
    public children: Node<V>[],
  ) {}
}

type Node<V> = Leaf<V> | Internal<V>;

/** The first index whose key is >= `key` (the keys' length when none is). */
function lowerBound(keys: string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The child of an internal node whose range holds `key`: the last bound <= key, or the first child. */
function childIndex(keys: string[], key: string): number {
  let low = 1;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) <= key) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** `node` itself when only one tree holds it, else a copy that the caller puts in its place. */
function own<V>(node: Node<V>): Node<V> {
  if (!node.shared) return node;
  if (node.isLeaf) return new Leaf(node.keys.slice(), node.values.slice());
  for (const child of node.children) child.shared = true;
  return new Internal(node.keys.slice(), node.children.slice());
}

function entriesOf<V>(node: Node<V>): number {
  return node.keys.length;
}

export class BTree<V> {
  private root: Node<V>;
  private count: number;
  /** Set by a split deep in `insert`, read by its caller one level up. */
  private splitOff: Node<V> | undefined = undefined;

  constructor(root?: Node<V>, count = 0) {
    this.root = root ?? new Leaf<V>([], []);
    this.count = count;
  }

  /**
   * A tree of `keys` (strictly increasing) and their `values`, built level by level with full
   * nodes: several times faster than one insert per key, and full leaves take less memory.
   */
  static fromSorted<V>(keys: string[], values: V[]): BTree<V> {
    assert(keys.length === values.length, "as many values as keys");
    if (keys.length === 0) return new BTree<V>();
    let level: Node<V>[] = [];
    for (const [start, end] of chunks(keys.length)) level.push(new Leaf(keys.slice(start, end), values.slice(start, end)));
    while (level.length > 1) {
      const parents: Node<V>[] = [];
      for (const [start, end] of chunks(level.length)) {
        const children = level.slice(start, end);
        parents.push(new Internal(children.map(firstKey), children));
      }
      level = parents;
    }
    return new BTree(level[0], keys.length);
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    let node = this.root;
    while (!node.isLeaf) node = node.children[childIndex(node.keys, key)] as Node<V>;
    const keys = node.keys;
    const at = lowerBound(keys, key);
    return at < keys.length && keys[at] === key ? node.values[at] : undefined;
  }

  /** Sets `key` to `value`; returns the value it replaced, or undefined when the key is new. */
  set(key: string, value: V): V | undefined {
    const root = own(this.root);
    this.root = root;
    const previous = this.insert(root, key, value);
    const right = this.splitOff;
    if (right !== undefined) {
      this.splitOff = undefined;
      this.root = new Internal([firstKey(root), firstKey(right)], [root, right]);
    }
    return previous;
  }

  /** Removes `key`; returns the value it had, or undefined when it was absent. */
  delete(key: string): V | undefined {
    const root = own(this.root);
    this.root = root;
    const previous = this.remove(root, key);
    if (!root.isLeaf && root.children.length === 1) this.root = root.children[0] as Node<V>;
    return previous;
  }

  /** An O(1) snapshot: writes to either tree afterwards do not show in the other. */
  clone(): BTree<V> {
    this.root.shared = true;
    return new BTree(this.root, this.count);
  }

  /**
   * Entries in key order from `from` on (`key >= from`), or in reverse from `from` down
   * (`key <= from`); from the first (last) key when `from` is undefined. The tree must not be
   * written while it is iterated: iterate a clone.
   */
  entries(from: string | undefined, reverse: boolean): IterableIterator<[string, V]> {
    return new Cursor(this.root, from, reverse);
  }

  /**
   * How many keys lie in [from, upper) (upper undefined: no bound). Walks the leaves in range,
   * a whole leaf at a time: O(log n + keys in range / leaf size), with no count kept per node
   * (which every write would pay for).
   */
  countRange(from: string, upper: string | undefined): number {
    return new Cursor(this.root, from, false).countBelow(upper);
  }

  /** The key `rank` places after the first key >= `from` (0: that key), or undefined past the last; as countRange. */
  keyAtRank(from: string, rank: number): string | undefined {
    const cursor = new Cursor(this.root, from, false);
    if (cursor.skip(rank) < rank) return undefined;
    const next = cursor.next();
    return next.done === true ? undefined : next.value[0];
  }

  /**
   * Checks the tree's shape (for tests): keys strictly increasing and within their bounds, all
   * leaves at one depth, every node but the root between the minimum and the maximum of
   * entries, and the count right. Throws an AssertionError at the first thing wrong.
   */
  assertValid(): void {
    let leafDepth = -1;
    let keys = 0;
    const visit = (node: Node<V>, depth: number, lower: string | undefined, upper: string | undefined) => {
      const entries = entriesOf(node);
      assert(entries <= NODE_ENTRIES_MAX, "a node holds at most the maximum");
      if (node !== this.root) assert(entries >= NODE_ENTRIES_MIN, "a node but the root holds at least the minimum");
      if (node.isLeaf) {
        assert(node.values.length === entries, "a leaf has a value per key");
        if (leafDepth === -1) leafDepth = depth;
        assert(leafDepth === depth, "all leaves are at one depth");
        node.keys.forEach((key, i) => {
          assert(i === 0 || (node.keys[i - 1] as string) < key, "a leaf's keys increase");
          assert(lower === undefined || key >= lower, "a key is at or above its bound");
          assert(upper === undefined || key < upper, "a key is below the next bound");
        });
        keys += entries;
        return;
      }
      assert(node.children.length === entries, "an internal node has a bound per child");
      assert(entries >= 2 || node !== this.root || depth > 0, "an internal root has two children or more");
      node.children.forEach((child, i) => {
        const from = i === 0 ? lower : node.keys[i];
        const to = i + 1 < entries ? node.keys[i + 1] : upper;
        assert(from === undefined || to === undefined || from < to, "bounds increase");
        visit(child, depth + 1, from, to);
      });
    };
    visit(this.root, 0, undefined, undefined);
    assert(keys === this.count, "the count is the number of keys");
  }

  private insert(node: Node<V>, key: string, value: V): V | undefined {
    if (node.isLeaf) {
      const keys = node.keys;
      const at = lowerBound(keys, key);
      if (at < keys.length && keys[at] === key) {
        const previous = node.values[at];
        node.values[at] = value;
        return previous;
      }
      keys.splice(at, 0, key);
      node.values.splice(at, 0, value);
      this.count++;
      if (keys.length > NODE_ENTRIES_MAX) this.splitOff = splitLeaf(node);
      return undefined;
    }
    const at = childIndex(node.keys, key);
    const child = own(node.children[at] as Node<V>);
    node.children[at] = child;
    if (child.isLeaf && child.keys.length === NODE_ENTRIES_MAX) makeRoom(node, at, child, key);
    const previous = this.insert(child, key, value);
    const right = this.splitOff;
    if (right !== undefined) {
      node.keys.splice(at + 1, 0, firstKey(right));
      node.children.splice(at + 1, 0, right);
      this.splitOff = node.children.length > NODE_ENTRIES_MAX ? splitInternal(node) : undefined;
    }
    return previous;
  }

  private remove(node: Node<V>, key: string): V | undefined {
    if (node.isLeaf) {
      const keys = node.keys;
      const at = lowerBound(keys, key);
      if (at === keys.length || keys[at] !== key) return undefined;
      const previous = node.values[at];
      keys.splice(at, 1);
      node.values.splice(at, 1);
      this.count--;
      return previous;
    }
    const at = childIndex(node.keys, key);
    const child = own(node.children[at] as Node<V>);
    node.children[at] = child;
    const previous = this.remove(child, key);
    if (previous !== undefined && entriesOf(child) < NODE_ENTRIES_MIN && node.children.length > 1) rebalance(node, at);
    return previous;
  }
}

/** [start, end) of `total` items cut into nodes as full as possible, none below the minimum. */
function* chunks(total: number): Generator<[number, number]> {
  let start = 0;
  while (start < total) {
    let end = Math.min(total, start + NODE_ENTRIES_MAX);
    // Leave the last node enough: take fewer now when what would remain is under the minimum.
    const rest = total - end;
    if (rest > 0 && rest < NODE_ENTRIES_MIN) end -= NODE_ENTRIES_MIN - rest;
    yield [start, end];
    start = end;
  }
}

/** A node's lower bound as its parent keeps it. */
function firstKey<V>(node: Node<V>): string {
  return node.keys[0] as string;
}

function splitLeaf<V>(leaf: Leaf<V>): Leaf<V> {
  const half = leaf.keys.length >>> 1;
  return new Leaf(leaf.keys.splice(half), leaf.values.splice(half));
}

function splitInternal<V>(node: Internal<V>): Internal<V> {
  const half = node.children.length >>> 1;
  return new Internal(node.keys.splice(half), node.children.splice(half));
}

/**
 * Before a full leaf splits: moves its first entry to its left neighbour, or its last to its
 * right one, when that neighbour has room and `key` still belongs in the leaf after the move.
 * Keys written in ascending order (or descending) then fill leaves instead of leaving each half
 * empty behind a split: about half the leaves, and a level less in a large tree.
 * `key` must stay in the leaf's range: at or above its new first key, below the last one moved.
 */
function makeRoom<V>(parent: Internal<V>, at: number, leaf: Leaf<V>, key: string): void {
  const keys = leaf.keys;
  if (at > 0 && (keys[1] as string) <= key && entriesOf(parent.children[at - 1] as Node<V>) < NODE_ENTRIES_MAX) {
    const left = own(parent.children[at - 1] as Node<V>) as Leaf<V>;
    parent.children[at - 1] = left;
    left.keys.push(keys.shift() as string);
    left.values.push(leaf.values.shift() as V);
    parent.keys[at] = keys[0] as string;
  } else if (
    at + 1 < parent.children.length &&
    key < (keys[keys.length - 1] as string) &&
    entriesOf(parent.children[at + 1] as Node<V>) < NODE_ENTRIES_MAX
  ) {
    const right = own(parent.children[at + 1] as Node<V>) as Leaf<V>;
    parent.children[at + 1] = right;
    right.keys.unshift(keys.pop() as string);
    right.values.unshift(leaf.values.pop() as V);
    parent.keys[at + 1] = right.keys[0] as string;
  }
}

/**
 * Mends `parent.children[at]`, just fallen under the minimum, with a neighbour: merged into one
 * node when both fit, else their entries shared out evenly between the two.
 */
function rebalance<V>(parent: Internal<V>, at: number): void {
  const leftAt = at > 0 ? at - 1 : at;
  const rightAt = leftAt + 1;
  const left = own(parent.children[leftAt] as Node<V>);
  const right = own(parent.children[rightAt] as Node<V>);
  assert(left.isLeaf === right.isLeaf, "siblings are at the same depth");
  const keys = left.keys.concat(right.keys);
  // An internal node's first bound may be stale; the parent's is the one that separates.
  if (!left.isLeaf) keys[left.keys.length] = parent.keys[rightAt] as string;
  if (keys.length <= NODE_ENTRIES_MAX) {
    left.keys = keys;
    if (left.isLeaf) left.values = left.values.concat((right as Leaf<V>).values);
    else left.children = left.children.concat((right as Internal<V>).children);
    parent.keys.splice(rightAt, 1);
    parent.children.splice(rightAt, 1);
    parent.children[leftAt] = left;
    return;
  }
  const half = keys.length >>> 1;
  left.keys = keys.slice(0, half);
  right.keys = keys.slice(half);
  if (left.isLeaf) {
    const values = left.values.concat((right as Leaf<V>).values);
    left.values = values.slice(0, half);
    (right as Leaf<V>).values = values.slice(half);
  } else {
    const children = left.children.concat((right as Internal<V>).children);
    left.children = children.slice(0, half);
    (right as Internal<V>).children = children.slice(half);
  }
  parent.keys[rightAt] = right.keys[0] as string;
  parent.children[leftAt] = left;
  parent.children[rightAt] = right;
}

/** Walks the leaves from a starting key, forward or backward, through a stack of its ancestors. */
class Cursor<V> implements IterableIterator<[string, V]> {
  /** The internal nodes above `leaf`, root first, and the child index taken in each. */
  private readonly path: Internal<V>[] = [];
  private readonly taken: number[] = [];
  private leaf: Leaf<V> | undefined;
  private at = 0;

  constructor(
    root: Node<V>,
    from: string | undefined,
    private readonly reverse: boolean,
  ) {
    let node = root;
    while (!node.isLeaf) {
      const child = from === undefined ? (reverse ? node.children.length - 1 : 0) : childIndex(node.keys, from);
      this.path.push(node);
      this.taken.push(child);
      node = node.children[child] as Node<V>;
    }
    this.leaf = node;
    if (from === undefined) this.at = reverse ? node.keys.length - 1 : 0;
    else {
      const at = lowerBound(node.keys, from);
      // Reverse starts at the last key <= from: the one found when it equals `from`, else the one before.
      this.at = reverse ? (at < node.keys.length && node.keys[at] === from ? at : at - 1) : at;
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this;
  }

  next(): IteratorResult<[string, V]> {
    for (;;) {
      const leaf = this.leaf;
      if (leaf === undefined) return { done: true, value: undefined };
      const at = this.at;
      if (at >= 0 && at < leaf.keys.length) {
        this.at = this.reverse ? at - 1 : at + 1;
        return { done: false, value: [leaf.keys[at] as string, leaf.values[at] as V] };
      }
      this.leaf = this.nextLeaf();
    }
  }

  /** Moves forward past up to `count` entries without reading them; returns how many it passed. */
  skip(count: number): number {
    let skipped = 0;
    while (skipped < count && this.leaf !== undefined) {
      const step = Math.min(count - skipped, this.leaf.keys.length - this.at);
      if (step > 0) {
        skipped += step;
        this.at += step;
      }
      if (this.at >= this.leaf.keys.length) this.leaf = this.nextLeaf();
    }
    return skipped;
  }

  /** Moves forward past the entries below `upper` (every one when undefined); returns how many it passed. */
  countBelow(upper: string | undefined): number {
    let count = 0;
    while (this.leaf !== undefined) {
      const keys = this.leaf.keys;
      const last = keys[keys.length - 1];
      if (upper === undefined || (last !== undefined && last < upper)) {
        count += Math.max(keys.length - this.at, 0);
        this.leaf = this.nextLeaf();
        continue;
      }
      const end = lowerBound(keys, upper);
      count += Math.max(end - this.at, 0);
      this.at = end;
      return count;
    }
    return count;
  }

  /** The leaf after (before) the current one, positioned at its first (last) entry; undefined past the end. */
  private nextLeaf(): Leaf<V> | undefined {
    const { path, taken, reverse } = this;
    let depth = path.length - 1;
    // Climb to the nearest ancestor with a child further along.
    while (depth >= 0) {
      const next = (taken[depth] as number) + (reverse ? -1 : 1);
      if (next >= 0 && next < (path[depth] as Internal<V>).children.length) break;
      depth--;
    }
    if (depth < 0) return undefined;
    taken[depth] = (taken[depth] as number) + (reverse ? -1 : 1);
    let node = (path[depth] as Internal<V>).children[taken[depth] as number] as Node<V>;
    path.length = depth + 1;
    taken.length = depth + 1;
    while (!node.isLeaf) {
      const child = reverse ? node.children.length - 1 : 0;
      path.push(node);
      taken.push(child);
      node = node.children[child] as Node<V>;
    }
    this.at = reverse ? node.keys.length - 1 : 0;
    return node;
  }
}
