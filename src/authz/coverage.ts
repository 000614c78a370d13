/**
 * URI patterns as sets of URIs, for authorizing what a pattern-based
 * SUBSCRIBE or REGISTER can reach. An exact URI is one URI; a prefix is
 * every URI starting with it, by characters ("com.x" reaches "com.xy.z");
 * a wildcard is every URI with as many components, an empty component
 * matching any one (WAMP: rpc_pattern_based_registration).
 *
 * The tool is a witness: one URI that two patterns both match, chosen as
 * general as their intersection allows. Where the intersection leaves a
 * component open it has a character that no pattern involved contains (the
 * "fresh" one), and where it leaves the length open it has more components
 * than any exact or wildcard permission (`depth`). So a permission that
 * matches the witness matches the whole intersection: a literal component
 * cannot match a fresh one, and a prefix without the fresh character must
 * end before it, in the part every URI of the intersection shares.
 */
import { patternMatches } from '../core/uri-map.ts';
import { isValidUri, type MatchPolicy } from '../wamp/uri-syntax.ts';

export interface Pattern {
  uri: string;
  match: MatchPolicy;
}

/**
 * A URI both patterns match, as general as their intersection allows (see
 * above), or undefined if no URI matches both. `fresh` must be a valid
 * component character that neither pattern, nor any permission the witness
 * will be looked up in, contains.
 */
export function witness(a: Pattern, b: Pattern, fresh: string, depth: number): string | undefined {
  const candidate = construct(a, b, fresh, depth);
  // The construction assumes the parts it copies agree; checking the result keeps it honest.
  if (candidate === undefined || !isValidUri(candidate)) return undefined;
  return patternMatches(a.uri, a.match, candidate) && patternMatches(b.uri, b.match, candidate) ? candidate : undefined;
}

/** Whether some URI matches both patterns. */
export function intersects(a: Pattern, b: Pattern): boolean {
  return example(a, b) !== undefined;
}

/** A readable URI both patterns match (open components are "x"), for messages. */
export function example(a: Pattern, b: Pattern): string | undefined {
  // Whether the intersection is empty does not depend on which valid character fills it.
  return witness(a, b, 'x', 0);
}

/** A valid URI character that none of `texts` contains. */
export function freshCharacter(texts: Iterable<string>): string {
  const used = new Set<number>();
  for (const text of texts) for (let i = 0; i < text.length; i++) used.add(text.charCodeAt(i));
  // CJK ideographs: valid in a URI component, and unlikely in permissions; skip whatever is used.
  for (let code = 0x4e00; ; code++) {
    const ch = String.fromCharCode(code);
    if (!used.has(code) && isValidUri(ch) && (code < 0xd800 || code > 0xdfff)) return ch;
  }
}

function construct(a: Pattern, b: Pattern, fresh: string, depth: number): string | undefined {
  if (a.match === 'exact') return a.uri;
  if (b.match === 'exact') return b.uri;
  if (a.match === 'prefix' && b.match === 'prefix') {
    // The longer prefix, continued past every exact and wildcard permission's length.
    const longer = a.uri.length >= b.uri.length ? a.uri : b.uri;
    return longer + fresh + `.${fresh}`.repeat(depth);
  }
  if (a.match === 'wildcard' && b.match === 'wildcard') return bothWildcards(a.uri, b.uri, fresh);
  return a.match === 'wildcard' ? wildcardAndPrefix(a.uri, b.uri, fresh) : wildcardAndPrefix(b.uri, a.uri, fresh);
}

/** Each component: a literal of either pattern, else fresh. */
function bothWildcards(a: string, b: string, fresh: string): string | undefined {
  const x = a.split('.');
  const y = b.split('.');
  if (x.length !== y.length) return undefined;
  return x.map((part, i) => part || y[i] || fresh).join('.');
}

/**
 * The wildcard's literals; its open components filled from the prefix where
 * the prefix covers them, the one the prefix ends in continued with fresh
 * (the prefix may end in the middle of a component), the rest fresh.
 */
function wildcardAndPrefix(wildcard: string, prefix: string, fresh: string): string | undefined {
  const parts = wildcard.split('.');
  const whole = prefix.split('.');
  const cut = whole.pop()!;
  if (parts.length <= whole.length) return undefined;
  const fill = (i: number) => (i < whole.length ? whole[i] : i === whole.length ? cut + fresh : fresh);
  return parts.map((part, i) => part || fill(i)).join('.');
}
