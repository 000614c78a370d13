/**
 * Crossbar's TLS endpoint knobs through to the handshake: `ciphers` restricts
 * what a TLS 1.2 client may negotiate, `dhparam` makes DHE suites possible.
 * An RSA certificate and DH parameters are made with openssl for the test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createRouter, type RunningNode } from '../../src/index.ts';

const openssl = (args: string[]) =>
  new Promise<void>((resolve, reject) =>
    execFile('openssl', args, { timeout: 30_000 }, (err, _out, stderr) => (err ? reject(new Error(`openssl: ${stderr}`)) : resolve())),
  );

/** The cipher a TLS 1.2 client offering only `ciphers` gets, or the handshake error's code. */
function handshake(port: number, ciphers: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers }, () => {
      resolve(socket.getCipher().name);
      socket.destroy();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
  });
}

describe('TLS endpoint knobs', () => {
  let dir: string;
  const nodes: RunningNode[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kreuz-tls-knobs-'));
    await Promise.all([
      openssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      // DSA-style generation is fast; the parameters are as good for a test.
      openssl(['dhparam', '-dsaparam', '-out', join(dir, 'dhparam.pem'), '2048']),
    ]);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A RawSocket-over-TLS node with these TLS settings; its port. */
  async function tlsNode(tls: object): Promise<number> {
    const node = await createRouter(
      {
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1' }],
            transports: [
              {
                type: 'rawsocket',
                endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: 'key.pem', certificate: 'cert.pem', ...tls } },
              },
            ],
          },
        ],
      },
      { baseDir: dir },
    );
    nodes.push(node);
    return node.port;
  }

  it('ciphers: a TLS 1.2 client gets only a listed cipher', async () => {
    const port = await tlsNode({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.equal(await handshake(port, 'ECDHE-RSA-AES128-GCM-SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
    assert.match(await handshake(port, 'ECDHE-RSA-AES256-GCM-SHA384'), /^error /, 'an unlisted cipher is refused');
    const open = await tlsNode({});
    assert.equal(await handshake(open, 'ECDHE-RSA-AES256-GCM-SHA384'), 'ECDHE-RSA-AES256-GCM-SHA384', 'without the list it is not');
  });

  it('dhparam: DHE suites work with the parameters, and not without', async () => {
    const [withParams, without] = await Promise.all([
      tlsNode({ dhparam: 'dhparam.pem', ciphers: 'DHE-RSA-AES128-GCM-SHA256' }),
      tlsNode({ ciphers: 'DHE-RSA-AES128-GCM-SHA256' }),
    ]);
    assert.equal(await handshake(withParams, 'DHE-RSA-AES128-GCM-SHA256'), 'DHE-RSA-AES128-GCM-SHA256');
    assert.match(await handshake(without, 'DHE-RSA-AES128-GCM-SHA256'), /^error /);
  });
});
