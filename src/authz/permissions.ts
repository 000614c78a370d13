/**
 * The static permissions of one role, and which of them decides a URI.
 *
 * The choice follows Crossbar (router/role.py), so that a ported config
 * means what it meant there. For a URI:
 * 1. the exact permission for it;
 * 2. else the matching wildcard permission with the longest literal head
 *    (the text before its first empty component); between two with the same
 *    head, the one whose next literal comes first, position by position from
 *    the left (for "a.b.c.d": "a..c." over "a...d"). This is a property of the
 *    two patterns alone, not of the config order;
 * 3. else the longest matching prefix (by characters);
 * 4. else none: nothing is allowed.
 * This is not routing's order, where a prefix beats a wildcard. A
 * permission given twice (same URI and match) counts once, the last one.
 *
 * A pattern (prefix or wildcard SUBSCRIBE/REGISTER) is allowed only if every
 * URI it can reach is (`coversPattern`).
 */
import type { Action } from '../core/authorization.ts';
import { PrefixTree } from '../core/prefix-tree.ts';
import { WildcardTree } from '../core/wildcard-tree.ts';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import { example, freshCharacter, witness, type Pattern } from './coverage.ts';

export interface PermissionConfig {
  uri: string;
  /** Omitted: Crossbar's starred URIs decide ("a.b.*" prefix, "a.*.c" wildcard, else exact). */
  match?: MatchPolicy;
  allow?: Partial<Record<Action, boolean>>;
  disclose?: { caller?: boolean; publisher?: boolean };
  cache?: boolean;
}

/** Crossbar's starred URI convention for permissions without an explicit match. */
export function starred(uri: string): Pattern {
  if (!uri.includes('*')) return { uri, match: 'exact' };
  if (uri.endsWith('*') && uri.indexOf('*') === uri.length - 1) return { uri: uri.slice(0, -1), match: 'prefix' };
  return { uri: uri.replaceAll('*', ''), match: 'wildcard' };
}

/** The pattern a permission stands for. */
export function patternOf(permission: PermissionConfig): Pattern {
  return permission.match ? { uri: permission.uri, match: permission.match } : starred(permission.uri);
}

/** A permission with its pattern worked out. */
interface Entry extends Pattern {
  config: PermissionConfig;
}

/** What no permission matches falls to: denies everything, below every real prefix. */
const NOTHING: Pattern = { uri: '', match: 'prefix' };

export function allows(permission: PermissionConfig | undefined, action: Action): permission is PermissionConfig {
  return permission?.allow?.[action] === true;
}

export class PermissionTable {
  private readonly exact = new Map<string, Entry>();
  private readonly wildcard = new WildcardTree<Entry>();
  private readonly prefix = new PrefixTree<Entry>();
  /** Every permission kept (after repeats replaced earlier ones). */
  private readonly entries: Entry[];
  /** Components of the longest exact or wildcard permission: a witness deeper than that meets only prefixes. */
  private readonly depth: number;
  /** Every permission URI, and a character none of them contains (a witness's fresh one, unless the request has it). */
  private readonly texts: string[];
  private readonly fresh: string;

  constructor(permissions: PermissionConfig[]) {
    for (const config of permissions) {
      const { uri, match } = patternOf(config);
      const entry: Entry = { uri, match, config };
      if (match === 'exact') this.exact.set(uri, entry);
      else if (match === 'wildcard') this.wildcard.set(uri, entry);
      else if (match === 'prefix') this.prefix.set(uri, entry);
      else throw new Error(`permission "${uri}": match must be "exact", "prefix" or "wildcard", not "${String(match)}"`);
    }
    this.entries = [...this.exact.values(), ...this.wildcard.values(), ...this.prefix.values()];
    this.depth = this.entries.reduce((n, e) => (e.match === 'prefix' ? n : Math.max(n, e.uri.split('.').length)), 0);
    this.texts = this.entries.map((e) => e.uri);
    this.fresh = freshCharacter(this.texts);
  }

  /** The permission deciding `uri` (see the top of this file), if any. */
  choose(uri: string): PermissionConfig | undefined {
    // The wildcard tree's best is the longest literal head, then the earliest literal.
    return (this.exact.get(uri) ?? this.wildcard.best(uri) ?? this.prefix.longestPrefixOf(uri))?.config;
  }

  /**
   * Whether `action` is allowed on every URI the pattern can reach. Only a
   * denying permission (or none) can open a hole, and only where it wins:
   * for each one the pattern meets, the most general URI of where they meet
   * is decided like any URI. Whatever beats the denying permission there
   * matches all of where they meet (coverage.ts), so beats it everywhere;
   * if nothing beats it there, that URI is a hole.
   */
  coversPattern(pattern: Pattern, action: Action): boolean {
    const fresh = pattern.uri.includes(this.fresh) ? freshCharacter([...this.texts, pattern.uri]) : this.fresh;
    for (const deny of this.denying(action)) {
      const uri = witness(pattern, deny, fresh, this.depth);
      if (uri !== undefined && !allows(this.choose(uri), action)) return false;
    }
    return true;
  }

  private *denying(action: Action): Iterable<Pattern> {
    for (const entry of this.entries) if (!allows(entry.config, action)) yield entry;
    yield NOTHING;
  }
}

/** A prefix and a wildcard permission of one role that some URI (`example`) matches both. */
export interface Overlap {
  /** Indexes into the role's permissions. */
  prefix: number;
  wildcard: number;
  example: string;
}

/** Where a role's prefix and wildcard permissions overlap: there the wildcard decides (Crossbar's rule, not routing's). */
export function prefixWildcardOverlaps(permissions: PermissionConfig[]): Overlap[] {
  const patterns = permissions.map(patternOf);
  const out: Overlap[] = [];
  patterns.forEach((p, prefix) => {
    if (p.match !== 'prefix') return;
    patterns.forEach((w, wildcard) => {
      if (w.match !== 'wildcard') return;
      const uri = example(p, w);
      if (uri !== undefined) out.push({ prefix, wildcard, example: uri });
    });
  });
  return out;
}
