/**
 * A tree over URI components for wildcard patterns: an empty component
 * ("com..update") matches any one component, and the number of components
 * must be equal (WAMP: rpc_pattern_based_registration).
 */
class Node<T> {
  value: T | undefined;
  readonly literal = new Map<string, Node<T>>();
  any: Node<T> | undefined;

  get isEmpty(): boolean {
    return this.value === undefined && this.literal.size === 0 && this.any === undefined;
  }
}

export class WildcardTree<T> {
  private readonly root = new Node<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(pattern: string): T | undefined {
    let node: Node<T> | undefined = this.root;
    for (const part of pattern.split('.')) {
      node = part === '' ? node.any : node.literal.get(part);
      if (!node) return undefined;
    }
    return node.value;
  }

  set(pattern: string, value: T): void {
    let node = this.root;
    for (const part of pattern.split('.')) {
      let next: Node<T> | undefined = part === '' ? node.any : node.literal.get(part);
      if (!next) {
        next = new Node<T>();
        if (part === '') node.any = next;
        else node.literal.set(part, next);
      }
      node = next;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  delete(pattern: string): boolean {
    const parts = pattern.split('.');
    const path: Node<T>[] = [this.root];
    for (const part of parts) {
      const last: Node<T> = path[path.length - 1];
      const next = part === '' ? last.any : last.literal.get(part);
      if (!next) return false;
      path.push(next);
    }
    const target = path[path.length - 1];
    if (target.value === undefined) return false;
    target.value = undefined;
    this.count--;
    // Prune nodes left empty, bottom up.
    for (let i = parts.length - 1; i >= 0 && path[i + 1].isEmpty; i--) {
      if (parts[i] === '') path[i].any = undefined;
      else path[i].literal.delete(parts[i]);
    }
    return true;
  }

  /**
   * The most specific pattern matching `uri`: a literal component beats an
   * empty one, position by position from the left. A depth-first walk that
   * tries the literal child before the wildcard child finds it first.
   */
  best(uri: string): T | undefined {
    return this.count === 0 ? undefined : bestFrom(this.root, uri.split('.'), 0);
  }

  /** Every pattern matching `uri`. */
  all(uri: string): T[] {
    const out: T[] = [];
    if (this.count > 0) collect(this.root, uri.split('.'), 0, out);
    return out;
  }

  *values(): IterableIterator<T> {
    const stack = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.value !== undefined) yield node.value;
      for (const child of node.literal.values()) stack.push(child);
      if (node.any) stack.push(node.any);
    }
  }
}

function bestFrom<T>(node: Node<T>, parts: string[], i: number): T | undefined {
  if (i === parts.length) return node.value;
  const literal = node.literal.get(parts[i]);
  if (literal) {
    const found = bestFrom(literal, parts, i + 1);
    if (found !== undefined) return found;
  }
  return node.any ? bestFrom(node.any, parts, i + 1) : undefined;
}

function collect<T>(node: Node<T>, parts: string[], i: number, out: T[]): void {
  if (i === parts.length) {
    if (node.value !== undefined) out.push(node.value);
    return;
  }
  const literal = node.literal.get(parts[i]);
  if (literal) collect(literal, parts, i + 1, out);
  if (node.any) collect(node.any, parts, i + 1, out);
}
