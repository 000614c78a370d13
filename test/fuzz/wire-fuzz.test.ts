/** Bounded wire fuzzing in `npm test`; `npm run fuzz` runs many more cases. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { Bystander, fuzz } from './wire-fuzzer.ts';

const router = useRouter({ maxMessageSize: 64 * 1024 });

describe('wire fuzzing (bounded)', () => {
  const bystander = new Bystander();
  before(() => bystander.start(router.url));
  after(() => bystander.stop());

  it('survives 300 random and mutated messages in every session state, bystander unharmed', async () => {
    const { cases } = await fuzz(router.url, bystander, 300);
    assert.equal(cases, 300, 'every case ran');
    // Still serving new sessions too.
    assert.ok(router.node.router.realms.get('realm1')!.sessions.size >= 3, 'bystander sessions still joined');
  });
});
