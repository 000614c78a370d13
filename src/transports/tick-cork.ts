/**
 * Batches a socket's writes per tick: corked at the first write, uncorked
 * when the tick's work is done, so the frames one incoming message causes
 * (a RESULT, a burst of EVENTs) leave in one write instead of one each.
 * Measured with `npm run bench`: PubSub router CPU per delivered event fell
 * from about 9 to 3.5 us (1 -> 4 subscribers), RPC per call from 20 to 16 us.
 */
import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

export function corkUntilTickEnd(socket: Writable): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
