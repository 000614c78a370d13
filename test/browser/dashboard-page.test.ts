/**
 * The dashboard page's code outside the browser: its sources type-check
 * (web/dashboard/tsconfig.json: DOM types, Preact's JSX; the root tsconfig
 * does not cover them), the build keeps the size budget, and the WAMP-CRA
 * hashing the page does without WebCrypto (plain http on a LAN) matches
 * node:crypto, as does what it does with WebCrypto.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { BUDGET, readManifest, typeErrors } from '../../web/dashboard/build.mjs';
import { signChallenge } from '../../web/dashboard/src/auth.ts';
import { hmacSha256, pbkdf2Sha256, sha256 } from '../../web/dashboard/src/sha256.ts';
import { ensureDashboardBuilt } from '../helpers/browser.ts';

describe('the dashboard page sources', () => {
  it('type-check with DOM types and Preact JSX', () => {
    assert.equal(typeErrors(), undefined);
  });

  it(`are bundled within the budget of ${BUDGET} bytes gzipped`, async () => {
    await ensureDashboardBuilt();
    const manifest = readManifest();
    const sum = manifest.files.reduce((n, f) => n + f.gzip, 0);
    assert.equal(sum, manifest.gzipTotal);
    assert.ok(sum > 0 && sum < BUDGET, `${sum} bytes`);
    assert.deepEqual(
      manifest.files.map((f) => f.name.replace(/-[A-Z0-9]+\./, '-HASH.')),
      ['index.html', 'icon.svg', 'dashboard-HASH.js', 'dashboard-HASH.css'],
    );
  });
});

describe("the page's WAMP-CRA hashing", () => {
  it('SHA-256 and HMAC-SHA256 match node:crypto, at every block boundary and with long keys', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]) {
      const data = randomBytes(n);
      assert.equal(Buffer.from(sha256(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `${n} bytes`);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (key, message) => {
        const ours = Buffer.from(hmacSha256(key, message)).toString('hex');
        return ours === createHmac('sha256', key).update(message).digest('hex');
      }),
      { numRuns: 200 },
    );
  });

  it('PBKDF2-HMAC-SHA256 matches node:crypto for any key length', () => {
    for (const [iterations, keylen] of [
      [1, 16],
      [100, 32],
      [1000, 32],
      [10, 48],
      [3, 64],
      [2, 1],
    ]) {
      const ours = Buffer.from(pbkdf2Sha256(Buffer.from('secret1'), Buffer.from('salt123'), iterations, keylen)).toString('base64');
      assert.equal(ours, pbkdf2Sync('secret1', 'salt123', iterations, keylen, 'sha256').toString('base64'), `${iterations}/${keylen}`);
    }
    // Crossbar's documented example: derive_key('secret1', 'salt123', 100, 16).
    assert.equal(
      Buffer.from(pbkdf2Sha256(Buffer.from('secret1'), Buffer.from('salt123'), 100, 16)).toString('base64'),
      'prq7+YkJ1/KlW1X0YczMHw==',
    );
  });

  it('signs a challenge as Autobahn does, salted or not, and refuses salting no router should ask for', async () => {
    const challenge = JSON.stringify({ nonce: 'abc', authid: 'peter' });
    const plain = await signChallenge({ method: 'wampcra', secret: 's3cret' }, { challenge });
    assert.equal(plain, createHmac('sha256', 's3cret').update(challenge).digest('base64'));
    const key = pbkdf2Sync('s3cret', 'pepper', 1000, 32, 'sha256').toString('base64');
    const salted = await signChallenge(
      { method: 'wampcra', secret: 's3cret' },
      { challenge, salt: 'pepper', iterations: 1000, keylen: 32 },
    );
    assert.equal(salted, createHmac('sha256', key).update(challenge).digest('base64'));
    assert.equal(await signChallenge({ method: 'ticket', secret: 'tkt' }, {}), 'tkt');
    for (const extra of [{ challenge, salt: 'x', iterations: 1e9, keylen: 32 }, { challenge, salt: 'x', iterations: 1.5 }, { salt: 'x' }]) {
      await assert.rejects(signChallenge({ method: 'wampcra', secret: 's' }, extra), JSON.stringify(extra));
    }
  });
});
