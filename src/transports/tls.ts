/**
 * TLS settings shared by every listener (RawSocket over TLS, `wss://`, the
 * universal port): a certificate and its key, each given either as PEM text
 * or as the path of a PEM file.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { TLSSocket, type SecureContextOptions } from 'node:tls';

export interface TlsOptions {
  /** Server certificate (chain), PEM text or a file path. */
  cert: string;
  /** Its private key, PEM text or a file path. */
  key: string;
  /** Extra CA certificates (e.g. to verify client certificates later), PEM text or a file path. */
  ca?: string;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** Diffie-Hellman parameters (PEM text or a file path), for DHE cipher suites. */
  dhparam?: string;
  /** OpenSSL cipher list: restricts TLS 1.2 and older (TLS 1.3 suites too where it names TLS_* ones). Default: Node's. */
  ciphers?: string;
}

/** PEM text as is; anything else is read as a file path. */
export function pem(value: string): string {
  return value.includes('-----BEGIN ') ? value : readFileSync(value, 'utf8');
}

/** Node's secure-context options for `tls.createServer` / `https.createServer`. Reads files synchronously, at startup. */
export function secureContextOptions(options: TlsOptions): SecureContextOptions {
  return {
    cert: pem(options.cert),
    key: pem(options.key),
    ...(options.ca !== undefined ? { ca: pem(options.ca) } : {}),
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...(options.dhparam !== undefined ? { dhparam: pem(options.dhparam) } : {}),
    ...(options.ciphers !== undefined ? { ciphers: options.ciphers } : {}),
  };
}

/**
 * The channel ids of a TLS connection, as Autobahn computes them: tls-unique
 * is SHA-256 of the first Finished message (RFC 5929), the client's on a
 * full handshake. TLS 1.3 has no tls-unique.
 */
export function channelIds(socket: unknown): { channelId?: Record<string, Uint8Array> } {
  if (!(socket instanceof TLSSocket) || socket.getProtocol() === 'TLSv1.3') return {};
  const finished = socket.getPeerFinished();
  return finished ? { channelId: { 'tls-unique': createHash('sha256').update(finished).digest() } } : {};
}
