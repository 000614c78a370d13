/**
 * Listening on TCP or a Unix socket, shared by the RawSocket, WebSocket and
 * universal listeners: binding (a stale Unix socket file left by a crashed
 * node is removed first; a live one is an error), and closing with every
 * connection dropped.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * Where a listener binds: TCP (host defaults to 127.0.0.1; port 0 picks a
 * free one) or a Unix socket path; `backlog`: connections the OS queues
 * before they are accepted (listen(2); default Node's 511).
 */
export type ListenAddress = ({ host?: string; port: number } | { path: string }) & { backlog?: number };

/** The bound address: TCP with the actual port, or the Unix socket path. */
export type BoundAddress = { host: string; port: number } | { path: string };

/** A running listener, as returned by `listenRawSocket`, `listenWebSocket` and `listenUniversal`. */
export interface Listener {
  readonly address: BoundAddress;
  /** How a client reaches it: rs://, rss://, ws://, wss:// URLs, or unix:<path>. */
  readonly url: string;
  /** The listening server (for metrics that count its connections' bytes). */
  readonly server: Server;
  /** Stops accepting new connections; those open go on (graceful shutdown). */
  stopAccepting(): void;
  /** Stops accepting, drops every connection (their sessions leave the router), and resolves once closed. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';

/** Binds `server` to `address`; resolves with the bound address. Rejects on a bind error. */
export async function bind(server: Server, address: ListenAddress): Promise<BoundAddress> {
  if ('path' in address) await removeStaleSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    server.once('error', fail);
    const done = () => {
      server.off('error', fail);
      resolve();
    };
    const backlog = address.backlog === undefined ? {} : { backlog: address.backlog };
    if ('path' in address) server.listen({ path: address.path, ...backlog }, done);
    else server.listen({ port: address.port, host: address.host ?? DEFAULT_HOST, ...backlog }, done);
  });
  if ('path' in address) return { path: address.path };
  const bound = server.address() as AddressInfo;
  return { host: address.host ?? DEFAULT_HOST, port: bound.port };
}

/** "host:port" (IPv6 in brackets), for URLs. */
export function hostPort(address: { host: string; port: number }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/**
 * Keeps every accepted socket of `server` until it closes, so that `close`
 * can drop them all (upgraded WebSockets and RawSockets are no longer the
 * HTTP server's to close).
 */
export function trackConnections(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Stops `server` accepting new connections, leaving open ones be. */
export function stopAccepting(server: Server): void {
  if (server.listening) server.close();
}

/** Stops `server` and destroys `sockets`; resolves when the server has closed. */
export function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * A Unix socket file that nobody listens on any more (the node crashed) would
 * make listen fail with EADDRINUSE: remove it. A file that is not a socket, or
 * a socket with a live server behind it, is left alone and reported.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`cannot listen on ${path}: the file exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(true); // an accepting server answers at once; no answer: assume it is in use
    }, 1000);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (live) {
    throw Object.assign(new Error(`cannot listen on ${path}: another server is listening there`), { code: 'EADDRINUSE' });
  }
  unlinkSync(path);
}
