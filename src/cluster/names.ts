/**
 * Names in the backplane. KV keys take only `[-/_=.a-zA-Z0-9]`, and NATS
 * subjects split on dots and treat `*` and `>` as wildcards, so realm names
 * and URIs never appear in keys or subjects as they are: each is 26 base32
 * characters of its SHA-256. The values repeat the names in full.
 */
import { createHash } from 'node:crypto';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 130 bits of SHA-256 of the parts (joined with NUL, which no realm or URI holds) as 26 base32 characters. */
export function hashName(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (let i = 0; out.length < 26; ) {
    if (bits < 5) {
      value = (value << 8) | digest[i++]!;
      bits += 8;
    }
    out += BASE32[(value >> (bits - 5)) & 31];
    bits -= 5;
  }
  return out;
}

/** The key of a realm's registration record for (match, uri). */
export const registrationKey = (realm: string, match: MatchPolicy, uri: string) => `r.${hashName(realm)}.reg.${hashName(match, uri)}`;

/** The key of a session's record. */
export const sessionKey = (realm: string, session: number) => `r.${hashName(realm)}.ses.${session}`;

/** The key of one node's subscribers of (match, uri). */
export const subscriptionKey = (realm: string, match: MatchPolicy, uri: string, node: string) =>
  `r.${hashName(realm)}.sub.${hashName(match, uri)}.${node}`;

/** The key of a topic's retained event. */
export const retainedKey = (realm: string, topic: string) => `r.${hashName(realm)}.ret.${hashName(topic)}`;

export const nodeKey = (node: string) => `node.${node}`;

/** The record of a node incarnation's death, written by the cleanup leader. */
export const deadKey = (node: string, incarnation: number) => `dead.${node}.${incarnation}`;

/**
 * A subscription's ID, the same on every node: 53 bits of SHA-256 of (realm,
 * match, uri), plus one, so it is a WAMP ID in [1, 2^53].
 */
export function subscriptionId(realm: string, match: MatchPolicy, uri: string): number {
  const digest = createHash('sha256').update(`${realm}\0${match}\0${uri}`).digest();
  return (digest.readUInt32BE(0) & 0x1fffff) * 2 ** 32 + digest.readUInt32BE(4) + 1;
}
