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
 * Runs in its own process; prints `URL ws://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRequests } from './ipc.ts';

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
    ws.on('message', (data, isBinary) => callee.waiting.shift()?.send(data, { binary: isBinary }));
    ws.on('close', () => callees.splice(callees.indexOf(callee), 1));
  } else if (role === 'caller') {
    ws.on('message', (data, isBinary) => {
      if (callees.length === 0) return;
      const callee = callees[next++ % callees.length];
      callee.waiting.push(ws);
      callee.ws.send(data, { binary: isBinary });
    });
  } else if (role === 'sub') {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  } else if (role === 'pub') {
    ws.on('message', (data, isBinary) => {
      for (const sub of subscribers) sub.send(data, { binary: isBinary });
    });
  }
  ws.on('error', () => ws.terminate());
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serveRequests({});
console.log(`URL ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
