/**
 * URI syntax rules (WAMP: basic/building_blocks.md "URIs"). Kreuz checks the
 * loose rule by default, as Crossbar's router does.
 */
/** The match policies of SUBSCRIBE and REGISTER (WAMP: pattern-based subscriptions and registrations). */
export const MATCH_POLICIES = ['exact', 'prefix', 'wildcard'] as const;
export type MatchPolicy = (typeof MATCH_POLICIES)[number];

// Characters no URI component may hold (the loose rule): whitespace and '#'.
// One linear scan with a regex without groups, then a few indexOf checks:
// a 1 MB URI costs about what 1 MB of payload does (no backtracking).
const FORBIDDEN = /[\s#]/;

/** Components of `uri` are non-empty, except where `empty` allows: nowhere, the last one, or anywhere. */
function components(uri: string, empty: 'none' | 'last' | 'any'): boolean {
  if (FORBIDDEN.test(uri)) return false;
  if (empty === 'any') return true;
  if (uri.length === 0) return empty === 'last';
  if (uri.charCodeAt(0) === 0x2e || uri.includes('..')) return false;
  return empty === 'last' || uri.charCodeAt(uri.length - 1) !== 0x2e;
}

/** A concrete URI: what CALL and PUBLISH name, and exact registrations. */
export function isValidUri(uri: string): boolean {
  return components(uri, 'none');
}

/** A URI pattern for REGISTER/SUBSCRIBE under the given match policy. */
export function isValidPattern(uri: string, match: MatchPolicy): boolean {
  switch (match) {
    case 'exact':
      return components(uri, 'none');
    case 'prefix':
      return components(uri, 'last');
    case 'wildcard':
      return components(uri, 'any');
  }
}

/** Application URIs must not start with "wamp." (WAMP: reserved for the router). */
export function isReservedUri(uri: string): boolean {
  return uri.startsWith('wamp.');
}

/**
 * A registration pattern only the router may hold: its first component is
 * "wamp" (so a prefix "wamp" is reserved too, since it would catch "wamp.*").
 */
export function isReservedPattern(uri: string): boolean {
  return uri === 'wamp' || uri.startsWith('wamp.');
}

/** A URI as error texts and logs quote it: cut to 200 characters, so a huge URI is not echoed back whole. */
export function quoted(uri: string): string {
  return JSON.stringify(uri.length > 200 ? `${uri.slice(0, 200)}…` : uri);
}

// WAMP realm names as Autobahn and Crossbar accept them.
const REALM_NAME = /^[A-Za-z][A-Za-z\d_\-@.]{2,254}$/;

export function isValidRealmName(name: string): boolean {
  return REALM_NAME.test(name);
}
