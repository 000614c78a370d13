/** `kreuz keygen`: an Ed25519 key pair for WAMP-cryptosign, as hex. */
import { generateKeyPairSync } from 'node:crypto';

export interface KeyPair {
  /** The 32-byte private seed, hex: what the client signs with. */
  privateKey: string;
  /** The 32-byte public key, hex: what goes into a cryptosign principal's authorized_keys. */
  publicKey: string;
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const hex = (base64url: string | undefined) => Buffer.from(base64url ?? '', 'base64url').toString('hex');
  return { privateKey: hex(privateKey.export({ format: 'jwk' }).d), publicKey: hex(publicKey.export({ format: 'jwk' }).x) };
}

export function keygenText({ privateKey, publicKey }: KeyPair): string {
  return [
    'Ed25519 key pair for WAMP-cryptosign',
    `private key: ${privateKey}`,
    `public key:  ${publicKey}`,
    '',
    'Keep the private key secret: the client signs with it.',
    'The public key goes into authorized_keys of a cryptosign principal.',
  ].join('\n');
}
