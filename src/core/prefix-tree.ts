/**
 * A radix tree over strings for longest-prefix lookup. WAMP prefix matching
 * is by characters, not components: "com.app.obj1" matches "com.app.obj1-sub"
 * (WAMP: rpc_pattern_based_registration, as Crossbar implements it).
 */
interface Edge<T> {
  label: string;
  node: Node<T>;
}

class Node<T> {
  value: T | undefined;
  /** Edges by the first character of their label. */
  readonly edges = new Map<string, Edge<T>>();
}

export class PrefixTree<T> {
  private readonly root = new Node<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): T | undefined {
    return this.find(key)?.value;
  }

  set(key: string, value: T): void {
    let node = this.root;
    let pos = 0;
    while (pos < key.length) {
      const edge = node.edges.get(key[pos]);
      if (!edge) {
        const leaf = new Node<T>();
        node.edges.set(key[pos], { label: key.slice(pos), node: leaf });
        node = leaf;
        pos = key.length;
        break;
      }
      const common = commonLength(edge.label, key, pos);
      if (common < edge.label.length) {
        // Split the edge where the new key leaves it.
        const middle = new Node<T>();
        middle.edges.set(edge.label[common], { label: edge.label.slice(common), node: edge.node });
        edge.label = edge.label.slice(0, common);
        edge.node = middle;
      }
      node = edge.node;
      pos += common;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  delete(key: string): boolean {
    // Remember the path so emptied nodes can be pruned and single edges merged.
    const path: Array<{ parent: Node<T>; edge: Edge<T> }> = [];
    let node = this.root;
    let pos = 0;
    while (pos < key.length) {
      const edge = node.edges.get(key[pos]);
      if (!edge || !key.startsWith(edge.label, pos)) return false;
      path.push({ parent: node, edge });
      node = edge.node;
      pos += edge.label.length;
    }
    if (node.value === undefined) return false;
    node.value = undefined;
    this.count--;
    for (let i = path.length - 1; i >= 0; i--) {
      const { parent, edge } = path[i];
      const child = edge.node;
      if (child.value !== undefined) break;
      if (child.edges.size === 0) {
        parent.edges.delete(edge.label[0]);
        continue;
      }
      if (child.edges.size === 1) {
        const [only] = child.edges.values();
        edge.label += only.label;
        edge.node = only.node;
      }
      break;
    }
    return true;
  }

  /** The value of the longest key that is a prefix of `text` (the empty key matches everything). */
  longestPrefixOf(text: string): T | undefined {
    let node = this.root;
    let best = node.value;
    let pos = 0;
    while (pos < text.length) {
      const edge = node.edges.get(text[pos]);
      if (!edge || !text.startsWith(edge.label, pos)) break;
      node = edge.node;
      pos += edge.label.length;
      if (node.value !== undefined) best = node.value;
    }
    return best;
  }

  /** Values of every key that is a prefix of `text`, shortest first. */
  allPrefixesOf(text: string): T[] {
    const out: T[] = [];
    let node = this.root;
    if (node.value !== undefined) out.push(node.value);
    let pos = 0;
    while (pos < text.length) {
      const edge = node.edges.get(text[pos]);
      if (!edge || !text.startsWith(edge.label, pos)) break;
      node = edge.node;
      pos += edge.label.length;
      if (node.value !== undefined) out.push(node.value);
    }
    return out;
  }

  *values(): IterableIterator<T> {
    const stack = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.value !== undefined) yield node.value;
      for (const edge of node.edges.values()) stack.push(edge.node);
    }
  }

  private find(key: string): Node<T> | undefined {
    let node = this.root;
    let pos = 0;
    while (pos < key.length) {
      const edge = node.edges.get(key[pos]);
      if (!edge || !key.startsWith(edge.label, pos)) return undefined;
      node = edge.node;
      pos += edge.label.length;
    }
    return node;
  }
}

function commonLength(label: string, key: string, from: number): number {
  let i = 0;
  while (i < label.length && from + i < key.length && label[i] === key[from + i]) i++;
  return i;
}
