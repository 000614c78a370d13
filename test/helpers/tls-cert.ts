/** A throwaway self-signed certificate for localhost / 127.0.0.1, made with openssl at test time. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  dir: string;
  certPath: string;
  keyPath: string;
  /** PEM text of the certificate (what a client trusts). */
  cert: string;
  key: string;
  remove(): void;
}

export async function makeTestCert(): Promise<TestCert> {
  const dir = mkdtempSync(join(tmpdir(), 'kreuz-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-days',
    '1',
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile('openssl', args, { timeout: 10_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`openssl failed: ${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  return {
    dir,
    certPath,
    keyPath,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
