/**
 * Registrations and subscriptions by (URI, match policy): an exact map, a
 * prefix tree and a wildcard tree. `best` picks the one a CALL goes to;
 * `all` gives every match, as an event goes to every matching subscription.
 */
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import { PrefixTree } from './prefix-tree.ts';
import { WildcardTree } from './wildcard-tree.ts';

export class UriMap<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefix = new PrefixTree<T>();
  private readonly wildcard = new WildcardTree<T>();

  get size(): number {
    return this.exact.size + this.prefix.size + this.wildcard.size;
  }

  get(uri: string, match: MatchPolicy): T | undefined {
    switch (match) {
      case 'exact':
        return this.exact.get(uri);
      case 'prefix':
        return this.prefix.get(uri);
      case 'wildcard':
        return this.wildcard.get(uri);
    }
  }

  set(uri: string, match: MatchPolicy, value: T): void {
    switch (match) {
      case 'exact':
        this.exact.set(uri, value);
        return;
      case 'prefix':
        return this.prefix.set(uri, value);
      case 'wildcard':
        return this.wildcard.set(uri, value);
    }
  }

  delete(uri: string, match: MatchPolicy): boolean {
    switch (match) {
      case 'exact':
        return this.exact.delete(uri);
      case 'prefix':
        return this.prefix.delete(uri);
      case 'wildcard':
        return this.wildcard.delete(uri);
    }
  }

  /** WAMP: exact wins, then the longest prefix, then the most specific wildcard. */
  best(uri: string): T | undefined {
    return this.exact.get(uri) ?? this.prefix.longestPrefixOf(uri) ?? this.wildcard.best(uri);
  }

  /** Every entry matching `uri`, whatever its policy. */
  all(uri: string): T[] {
    const out = this.prefix.allPrefixesOf(uri).concat(this.wildcard.all(uri));
    const exact = this.exact.get(uri);
    if (exact !== undefined) out.unshift(exact);
    return out;
  }

  values(match: MatchPolicy): IterableIterator<T> {
    switch (match) {
      case 'exact':
        return this.exact.values();
      case 'prefix':
        return this.prefix.values();
      case 'wildcard':
        return this.wildcard.values();
    }
  }
}

/** Whether `uri` matches the pattern (uri, match) on its own: for retained events and checks outside the map. */
export function patternMatches(pattern: string, match: MatchPolicy, uri: string): boolean {
  switch (match) {
    case 'exact':
      return pattern === uri;
    case 'prefix':
      return uri.startsWith(pattern);
    case 'wildcard': {
      const want = pattern.split('.');
      const parts = uri.split('.');
      return want.length === parts.length && want.every((p, i) => p === '' || p === parts[i]);
    }
  }
}
