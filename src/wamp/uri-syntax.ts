/**
 * URI syntax rules (WAMP: basic/building_blocks.md "URIs"). Kreuz checks the
 * loose rule by default, as Crossbar's router does.
 */
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

// Components: no '.', '#' or whitespace.
const LOOSE_NON_EMPTY = /^([^\s.#]+\.)*([^\s.#]+)$/;
// Wildcard patterns: empty components allowed anywhere.
const LOOSE_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
// Prefix patterns: the last component may be empty ("com.app." or "").
const LOOSE_LAST_EMPTY = /^([^\s.#]+\.)*([^\s.#]*)$/;

/** A concrete URI: what CALL and PUBLISH name, and exact registrations. */
export function isValidUri(uri: string): boolean {
  return LOOSE_NON_EMPTY.test(uri);
}

/** A URI pattern for REGISTER/SUBSCRIBE under the given match policy. */
export function isValidPattern(uri: string, match: MatchPolicy): boolean {
  switch (match) {
    case 'exact':
      return LOOSE_NON_EMPTY.test(uri);
    case 'prefix':
      return LOOSE_LAST_EMPTY.test(uri);
    case 'wildcard':
      return LOOSE_EMPTY.test(uri);
  }
}

/** Application URIs must not start with "wamp." (WAMP: reserved for the router). */
export function isReservedUri(uri: string): boolean {
  return uri.startsWith('wamp.');
}

// WAMP realm names as Autobahn and Crossbar accept them.
const REALM_NAME = /^[A-Za-z][A-Za-z\d_\-@.]{2,254}$/;

export function isValidRealmName(name: string): boolean {
  return REALM_NAME.test(name);
}
