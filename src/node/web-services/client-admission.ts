/**
 * Who may send a bridge request at all, before its body is read:
 * `require_ip` (addresses and networks, as Crossbar's Python `ip_network`
 * takes them: "10.0.0.0/8", "192.168.1.0/255.255.255.0", "::1") and
 * `require_tls`. The address is the TCP peer's, as Crossbar takes it (a
 * reverse proxy in front makes every request the proxy's).
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Refusal } from './json-answer.ts';

/** An address, or an address with a prefix length or (IPv4) a dotted netmask; undefined if it is neither. */
export function parseNetwork(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', mask, more] = text.split('/');
  const version = isIP(address);
  if (more !== undefined || version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (mask === undefined) return { address, prefix: bits, family };
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= bits ? { address, prefix: Number(mask), family } : undefined;
  const prefix = version === 4 && isIP(mask) === 4 ? prefixOfNetmask(mask) : undefined;
  return prefix === undefined ? undefined : { address, prefix, family };
}

/** 255.255.240.0 -> 20; a mask whose ones are not contiguous has none. */
function prefixOfNetmask(mask: string): number | undefined {
  const value = mask.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const ones = value.toString(2).replace(/0+$/, '');
  return /^1*$/.test(ones) && value.toString(2).length === (value === 0 ? 1 : 32) ? ones.length : undefined;
}

/** Whether a network names an address inside it rather than its start ("192.168.1.1/24"), which Python's ip_network refuses. */
export function hostBitsSet(network: { address: string; prefix: number; family: 'ipv4' | 'ipv6' }): boolean {
  const bits = network.family === 'ipv4' ? 32 : 128;
  const value = network.family === 'ipv4' ? ipv4Value(network.address) : ipv6Value(network.address);
  const hostMask = (1n << BigInt(bits - network.prefix)) - 1n;
  return (value & hostMask) !== 0n;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((n, octet) => n * 256n + BigInt(octet), 0n);
}

function ipv6Value(address: string): bigint {
  // An embedded IPv4 tail ("::ffff:1.2.3.4") as two groups.
  const text = address.replace(/(\d+\.\d+\.\d+\.\d+)$/, (v4) => {
    const n = ipv4Value(v4);
    return `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  });
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all =
    tail === undefined
      ? groups(head)
      : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.reduce((n, group) => (n << 16n) + BigInt(`0x${group}`), 0n);
}

export class ClientAdmission {
  private readonly allowed: BlockList | undefined;

  constructor(
    requireIp: readonly string[] | undefined,
    private readonly requireTls: boolean,
  ) {
    if (!requireIp) return;
    this.allowed = new BlockList();
    for (const text of requireIp) {
      const network = parseNetwork(text);
      if (!network) throw new Error(`require_ip: "${text}" is not an IP address or network`);
      this.allowed.addSubnet(network.address, network.prefix, network.family);
    }
  }

  /** Throws a Refusal (403) for a request over plain HTTP that must use TLS, or from an address not in the list. */
  admit(request: IncomingMessage): void {
    if (this.requireTls && !(request.socket instanceof TLSSocket))
      throw new Refusal(403, 'this service takes requests over TLS (https) only');
    if (!this.allowed) return;
    const raw = request.socket.remoteAddress ?? '';
    const address = raw.toLowerCase().startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
    const version = isIP(address);
    if (version === 0 || !this.allowed.check(address, version === 4 ? 'ipv4' : 'ipv6'))
      throw new Refusal(403, 'requests from this address are not accepted (require_ip)');
  }
}
