/**
 * A test router with authentication: a Router, its InternalCaller, and a
 * small WebSocket listener (ws or wss) on 127.0.0.1 that hands each
 * connection to `router.connect(peer, transportAuth)`.
 *
 * Test-only: the production WebSocketEndpoint does not take a TransportAuth
 * yet. For wss it also fills the proposed `TransportInfo.channelId`
 * ('tls-unique' = SHA-256 of the first TLS Finished message, as Autobahn|Python
 * computes it) so channel binding can be tried end to end.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { buildTransportAuth } from '../../src/auth/index.ts';
import type { TransportAuth } from '../../src/core/authentication.ts';
import { InternalCaller } from '../../src/core/internal-caller.ts';
import type { Peer, TransportInfo } from '../../src/core/peer.ts';
import { Router } from '../../src/core/router.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { SerializationError, serializerByProtocol, serializers } from '../../src/serializers/index.ts';

export interface AuthRouterOptions {
  /** Crossbar's transport `auth` dict, or a TransportAuth built by the caller. */
  auth: unknown | ((caller: InternalCaller) => TransportAuth);
  realms?: string[];
  /** Listen with TLS (wss://), TLS 1.2 so that tls-unique exists. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface AuthRouter {
  router: Router;
  caller: InternalCaller;
  url: string;
  /** TransportInfo of every connection accepted so far. */
  connections: TransportInfo[];
  close(): Promise<void>;
}

export async function startAuthRouter(options: AuthRouterOptions): Promise<AuthRouter> {
  const router = new Router({ realms: (options.realms ?? ['realm1']).map((name) => ({ name })) });
  const caller = new InternalCaller(router);
  const auth =
    typeof options.auth === 'function'
      ? (options.auth as (c: InternalCaller) => TransportAuth)(caller)
      : buildTransportAuth(options.auth, { caller });
  const connections: TransportInfo[] = [];

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => [...offered].find((p) => serializerByProtocol(p)) ?? false,
  });
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, maxVersion: 'TLSv1.2' })
    : createHttpServer();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) => attach(ws, request));
  });

  function attach(ws: WebSocket, request: IncomingMessage): void {
    const serializer = serializerByProtocol(ws.protocol) ?? serializers[0];
    const info: TransportInfo & { channelId?: Record<string, Uint8Array> } = {
      type: 'websocket',
      serializer: serializer.name,
      peer: `tcp:${request.socket.remoteAddress}:${request.socket.remotePort}`,
    };
    const tls = request.socket as TLSSocket;
    if (options.tls && typeof tls.getPeerFinished === 'function') {
      // RFC 5929 tls-unique: the first Finished message of the (full) handshake, i.e. the client's.
      const finished = tls.getPeerFinished();
      if (finished) info.channelId = { 'tls-unique': createHash('sha256').update(finished).digest() };
    }
    connections.push(info);
    const peer: Peer = {
      info,
      send(message: Outbound) {
        if (ws.readyState === ws.OPEN) ws.send(serializer.encode(message));
      },
      close(reason: string) {
        ws.close(1000, Buffer.from(reason).subarray(0, 123).toString());
      },
    };
    const session = router.connect(peer, auth);
    ws.on('message', (data: Buffer) => {
      let message: unknown;
      try {
        message = serializer.decode(data);
      } catch (err) {
        if (!(err instanceof SerializationError)) throw err;
        router.undecodable(session, `undecodable ${serializer.name} message`);
        return;
      }
      router.receive(session, message);
    });
    ws.on('close', () => router.transportClosed(session));
    ws.on('error', () => {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    router,
    caller,
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Runs `fn` against a fresh router started with `options`, and stops it afterwards. */
export async function withAuthRouter(options: AuthRouterOptions, fn: (r: AuthRouter) => Promise<void>): Promise<void> {
  const router = await startAuthRouter(options);
  try {
    await fn(router);
  } finally {
    await router.close();
  }
}
