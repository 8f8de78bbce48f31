/**
 * A sorted map from binary-string keys (compared with `<`, so stream IDs sort as IDs) to values:
 * a treap, a binary search tree kept balanced in expectation by heap-ordered random priorities.
 * get, set, delete and a seek (`ceiling`) each descend one path, O(log n) expected.
 *
 * Priorities come from a generator seeded per map, never from the clock or Math.random: they
 * decide only the tree's shape, which no method exposes (every read is in key order), yet a map
 * built by the same calls is then the same tree, which keeps replay easy to reason about.
 */
interface TreapNode<V> {
  readonly key: string;
  value: V;
  readonly priority: number;
  left: TreapNode<V> | undefined;
  right: TreapNode<V> | undefined;
}

const PRIORITY_SEED = 0x9e3779b9;

/** Splits `node` into the keys below `key` and those at or above it. */
function split<V>(node: TreapNode<V> | undefined, key: string): [TreapNode<V> | undefined, TreapNode<V> | undefined] {
  if (node === undefined) return [undefined, undefined];
  if (node.key < key) {
    const [low, high] = split(node.right, key);
    node.right = low;
    return [node, high];
  }
  const [low, high] = split(node.left, key);
  node.left = high;
  return [low, node];
}

/** Joins two treaps where every key of `low` is below every key of `high`. */
function merge<V>(low: TreapNode<V> | undefined, high: TreapNode<V> | undefined): TreapNode<V> | undefined {
  if (low === undefined) return high;
  if (high === undefined) return low;
  if (low.priority > high.priority) {
    low.right = merge(low.right, high);
    return low;
  }
  high.left = merge(low, high.left);
  return high;
}

export class SortedMap<V> {
  private root: TreapNode<V> | undefined;
  private count = 0;
  private seed = PRIORITY_SEED;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.find(key)?.value;
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  /** Inserts or replaces; returns whether the key was new. */
  set(key: string, value: V): boolean {
    const existing = this.find(key);
    if (existing !== undefined) {
      existing.value = value;
      return false;
    }
    const node: TreapNode<V> = { key, value, priority: this.nextPriority(), left: undefined, right: undefined };
    const [low, high] = split(this.root, key);
    this.root = merge(merge(low, node), high);
    this.count++;
    return true;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    let parent: TreapNode<V> | undefined;
    let node = this.root;
    while (node !== undefined && node.key !== key) {
      parent = node;
      node = key < node.key ? node.left : node.right;
    }
    if (node === undefined) return false;
    const joined = merge(node.left, node.right);
    if (parent === undefined) this.root = joined;
    else if (parent.left === node) parent.left = joined;
    else parent.right = joined;
    this.count--;
    return true;
  }

  /** The entry with the smallest key at or above `key`. */
  ceiling(key: string): [string, V] | undefined {
    let best: TreapNode<V> | undefined;
    let node = this.root;
    while (node !== undefined) {
      if (node.key >= key) {
        best = node;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return best === undefined ? undefined : [best.key, best.value];
  }

  firstKey(): string | undefined {
    let node = this.root;
    while (node?.left !== undefined) node = node.left;
    return node?.key;
  }

  lastKey(): string | undefined {
    let node = this.root;
    while (node?.right !== undefined) node = node.right;
    return node?.key;
  }

  /**
   * Entries in key order from `from` (inclusive; all when undefined). The map must not be
   * changed while the iterator is in use: callers that change it seek again with `ceiling`.
   */
  *entries(from?: string): Generator<[string, V]> {
    const stack: TreapNode<V>[] = [];
    let node = this.root;
    while (node !== undefined) {
      if (from === undefined || node.key >= from) {
        stack.push(node);
        node = node.left;
      } else {
        node = node.right;
      }
    }
    while (stack.length > 0) {
      const top = stack.pop() as TreapNode<V>;
      yield [top.key, top.value];
      for (let next = top.right; next !== undefined; next = next.left) stack.push(next);
    }
  }

  private find(key: string): TreapNode<V> | undefined {
    let node = this.root;
    while (node !== undefined && node.key !== key) node = key < node.key ? node.left : node.right;
    return node;
  }

  /** xorshift32: a fixed sequence per map. */
  private nextPriority(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}
