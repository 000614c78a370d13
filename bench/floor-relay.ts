/**
 * The floor: the least a relay on `ws` can do, with no WAMP at all. What a
 * router costs above this is the price of WAMP (decoding, routing, encoding).
 *
 * A client picks its role by URL path; messages are forwarded as they came
 * (same bytes, same frame type), never decoded:
 * - /callee: waits for calls; /caller: each message goes to the next callee
 *   (round robin over the connected ones), and that callee's next message
 *   goes back to the caller. The load client's callees answer in order, so a
 *   FIFO of callers per callee is all the routing there is.
 * - /sub: receives; /pub: each message is sent to every /sub connection.
 * - /idle (or anything else): kept open, nothing more (memory per socket).
 *
 * Writes are batched per tick the way Kreuz batches them
 * (src/transports/tick-cork.ts): a socket is corked at its first write in a
 * tick and uncorked on process.nextTick, so the frames one read of incoming
 * data causes leave in one write. Otherwise the floor would pay a syscall per
 * frame that Kreuz does not, and would not be the least a relay can do.
 * `--uncorked` turns that off (every frame its own write, as before; the
 * payload sweep's "floor (uncorked)" row).
 * Runs in its own process; prints `URL ws://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRequests } from './ipc.ts';

const corking = !process.argv.includes('--uncorked');
const corked = new WeakSet<Socket>();

/** Kreuz's corkUntilTickEnd (src/transports/tick-cork.ts), copied so the floor depends on nothing in src/. */
function corkUntilTickEnd(socket: Socket): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

/** ws.send, batched per tick unless --uncorked (as Kreuz's WebSocket transport writes). */
function send(ws: WebSocket, data: Parameters<WebSocket['send']>[0], isBinary: boolean): void {
  if (corking) corkUntilTickEnd((ws as unknown as { _socket: Socket })._socket);
  ws.send(data, { binary: isBinary });
}

const callees: Array<{ ws: WebSocket; waiting: WebSocket[] }> = [];
const subscribers = new Set<WebSocket>();
let next = 0;

const server = createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({
  server,
  perMessageDeflate: false,
  // Whatever WAMP subprotocol the client offers first is accepted as is.
  handleProtocols: (protocols) => protocols.values().next().value ?? false,
});

wss.on('connection', (ws, request) => {
  const role = new URL(request.url ?? '/', 'http://x').pathname.slice(1);
  if (role === 'callee') {
    const callee = { ws, waiting: [] as WebSocket[] };
    callees.push(callee);
    ws.on('message', (data, isBinary) => {
      const caller = callee.waiting.shift();
      if (caller) send(caller, data, isBinary);
    });
    ws.on('close', () => callees.splice(callees.indexOf(callee), 1));
  } else if (role === 'caller') {
    ws.on('message', (data, isBinary) => {
      if (callees.length === 0) return;
      const callee = callees[next++ % callees.length];
      callee.waiting.push(ws);
      send(callee.ws, data, isBinary);
    });
  } else if (role === 'sub') {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  } else if (role === 'pub') {
    ws.on('message', (data, isBinary) => {
      for (const sub of subscribers) send(sub, data, isBinary);
    });
  }
  ws.on('error', () => ws.terminate());
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serveRequests({});
console.log(`URL ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
