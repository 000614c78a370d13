/**
 * The peer: fox-wamp (npm), another WAMP router for Node.js, in its own
 * process on 127.0.0.1 with a random port, WebSocket path /ws. It speaks
 * wamp.2.json only and makes a realm on a client's first HELLO (anonymous),
 * so "realm1" needs no set-up. Prints `URL ws://127.0.0.1:<port>/ws`.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serveRequests } from './ipc.ts';

// fox-wamp is CommonJS and ships no types. It is no dependency of Kreuz (it pulls sqlite3, built
// from source): run.ts installs it on demand into bench/.peers/ (ignored by git), loaded from there.
const FoxRouter = createRequire(new URL('./.peers/package.json', import.meta.url))('fox-wamp') as new () => {
  listenWAMP(options: { host: string; port: number; path: string }): {
    once(event: 'listening' | 'error', listener: (err?: Error) => void): void;
    address(): AddressInfo;
  };
};

const router = new FoxRouter();
const server = router.listenWAMP({ host: '127.0.0.1', port: 0, path: '/ws' });
await new Promise<void>((resolve, reject) => {
  server.once('listening', () => resolve());
  server.once('error', reject);
});
serveRequests({});
console.log(`URL ws://127.0.0.1:${server.address().port}/ws`);
