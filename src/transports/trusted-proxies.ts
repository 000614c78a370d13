/**
 * Where a client is when it connects through a reverse proxy or load
 * balancer. Only a connection from a trusted proxy (`trustedProxies`: IPs,
 * CIDR ranges, or "unix" for Unix-socket connections) has its
 * X-Forwarded-For header believed; the client is then the right-most hop
 * that is not itself a trusted proxy (hops further left are whatever the
 * client chose to send). From anyone else the header is ignored.
 */
import { BlockList, isIP } from 'node:net';
import type { TransportInfo } from '../core/peer.ts';

export interface TrustedProxies {
  /** Is this IP (or, for "unix", a Unix-socket connection) a trusted proxy? */
  has(ip: string | undefined): boolean;
}

/** Reads a `trustedProxies` list; throws naming an entry that is not an IP, CIDR range or "unix". */
export function trustedProxies(list: readonly string[]): TrustedProxies {
  const blocks = new BlockList();
  let unix = false;
  for (const entry of list) {
    if (entry === 'unix') {
      unix = true;
      continue;
    }
    const [ip, bits, ...rest] = entry.split('/');
    const family = isIP(ip);
    const max = family === 4 ? 32 : 128;
    if (!family || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new Error(`trusted proxy "${entry}" is not an IP address, a CIDR range (e.g. 10.0.0.0/8) or "unix"`);
    }
    if (bits !== undefined) {
      blocks.addSubnet(ip, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const n = normalizeIp(ip); // "::ffff:10.0.0.1" is 10.0.0.1
    blocks.addAddress(n, isIP(n) === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    has(ip) {
      if (ip === undefined) return unix;
      const n = normalizeIp(ip);
      const family = isIP(n);
      return family !== 0 && blocks.check(n, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Whether `entry` is a valid `trustedProxies` entry (for config validation). */
export function isTrustedProxyEntry(entry: string): boolean {
  try {
    trustedProxies([entry]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The client's IP as a trusted proxy forwarded it, or undefined (no header,
 * or nothing usable in it: the proxy itself is then the client).
 */
export function forwardedClient(header: string | string[] | undefined, trusted: TrustedProxies): string | undefined {
  if (header === undefined) return undefined;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  let client: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i]);
    if (hop === undefined) break; // not an address: believe nothing left of it
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}

/**
 * TransportInfo's peer fields for a connection from `remoteAddress` (none: a
 * Unix socket): the socket's own, or the forwarded client's behind a trusted proxy.
 */
export function peerInfo(
  remoteAddress: string | undefined,
  remotePort: number | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies | undefined,
): Pick<TransportInfo, 'peer' | 'address' | 'via'> {
  const own: Pick<TransportInfo, 'peer' | 'address'> = remoteAddress
    ? { peer: `tcp:${remoteAddress}:${remotePort}`, address: normalizeIp(remoteAddress) }
    : { peer: 'unix' };
  const client = trusted?.has(remoteAddress) ? forwardedClient(forwardedFor, trusted) : undefined;
  // The client's port is not forwarded: the peer has none.
  return client === undefined ? own : { peer: `tcp:${client}`, address: client, via: own.peer };
}

/** One X-Forwarded-For hop ("1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1") as a normalized IP, or undefined. */
function parseHop(text: string): string | undefined {
  let hop = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) hop = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(hop)) hop = hop.slice(0, hop.lastIndexOf(':'));
  hop = normalizeIp(hop);
  return isIP(hop) ? hop : undefined;
}

/** Lower case, and an IPv4-mapped IPv6 address ("::ffff:1.2.3.4") as the IPv4 address it is. */
function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? mapped[1] : lower;
}
