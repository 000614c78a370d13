/**
 * WebSocket transport (WAMP: basic/transport_websocket): one WAMP message per
 * WebSocket message, serializer chosen by subprotocol.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Outbound } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';
import type { Peer, TransportInfo } from '../core/peer.ts';
import type { Router } from '../core/router.ts';
import { SerializationError, type Serializer } from '../serializers/serializer.ts';
import { serializerByProtocol } from '../serializers/index.ts';
import { encodeCacheFor } from './encode-cache.ts';

export interface WebSocketOptions {
  /** Serializers offered, in the router's order of preference (only used to pick among equals). */
  serializers: Serializer[];
  /** Largest message accepted from a client, in bytes; a larger one closes the connection with 1009. */
  maxMessageSize: number;
  /** permessage-deflate; off unless configured. */
  compression: boolean;
  /**
   * Bytes that may wait in a connection's send buffer; a client that reads
   * slower than it is sent to is disconnected past this, rather than grow memory.
   */
  maxSendBuffer: number;
}

/** ABORT reason for a client cut off because it does not read what it is sent. */
export const SLOW_CONSUMER = 'kreuz.error.slow_consumer';

/** Picks the first subprotocol in the client's order that we speak (as Crossbar does). */
export function chooseSubprotocol(offered: Iterable<string>, serializers: Serializer[]): Serializer | undefined {
  for (const protocol of offered) {
    const serializer = serializerByProtocol(protocol);
    if (serializer && serializers.includes(serializer)) return serializer;
  }
  return undefined;
}

/** Accepts WebSocket upgrades for one path and attaches each connection to the router. */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;

  constructor(
    private readonly router: Router,
    private readonly options: WebSocketOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: options.compression,
      handleProtocols: (offered) => chooseSubprotocol(offered, options.serializers)?.protocol ?? false,
    });
  }

  /** Handles an HTTP upgrade request already routed to this endpoint's path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = parseProtocols(request.headers['sec-websocket-protocol']);
    if (!chooseSubprotocol(offered, this.options.serializers)) {
      const speaks = this.options.serializers.map((s) => s.protocol).join(', ');
      refuse(socket, 400, `This server only speaks WebSocket subprotocols ${speaks}`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws, request));
  }

  /** Closes every connection. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(ws: WebSocket, request: IncomingMessage): void {
    const serializer = serializerByProtocol(ws.protocol)!;
    const encoder = encodeCacheFor(serializer);
    const { maxSendBuffer } = this.options;
    const router = this.router;
    let cutOff = false;
    const info: TransportInfo = {
      type: 'websocket',
      serializer: serializer.name,
      peer: `tcp:${request.socket.remoteAddress}:${request.socket.remotePort}`,
    };
    const peer: Peer = {
      info,
      send(message: Outbound) {
        if (ws.readyState !== ws.OPEN || cutOff) return;
        ws.send(encoder.encode(message));
        if (ws.bufferedAmount > maxSendBuffer) cutOffSlowConsumer();
      },
      close(reason: string) {
        // A close reason must fit a control frame (123 bytes).
        ws.close(1000, Buffer.from(reason).subarray(0, 123).toString());
      },
    };
    const session = this.router.connect(peer);
    const cutOffSlowConsumer = () => {
      cutOff = true;
      const text = `send buffer over ${maxSendBuffer} bytes: the client does not keep up`;
      router.transportFailed(session, SLOW_CONSUMER, text);
      // The close frame would wait behind the backlog the client does not read: drop the connection.
      ws.close(1008, text);
      ws.terminate();
    };
    // ws fails a message over maxPayload by closing with 1009 and no text; say why, in WAMP and in the close frame.
    const close = ws.close.bind(ws);
    ws.close = (code?: number, data?: string | Buffer) => {
      if (code !== 1009 || data !== undefined) return close(code, data);
      const text = `message larger than the limit of ${this.options.maxMessageSize} bytes`;
      this.router.transportFailed(session, ErrorUri.PAYLOAD_SIZE_EXCEEDED, text);
      close(1009, text);
    };
    ws.on('message', (data: Buffer) => {
      let message: unknown;
      try {
        message = serializer.decode(data);
      } catch (err) {
        if (!(err instanceof SerializationError)) throw err;
        this.router.undecodable(session, `undecodable ${serializer.name} message`);
        return;
      }
      this.router.receive(session, message);
    });
    ws.on('close', () => this.router.transportClosed(session));
    // Errors (e.g. a message over maxPayload) are followed by 'close'; ws already sent the close frame.
    ws.on('error', () => {});
  }
}

function parseProtocols(header: string | undefined): string[] {
  if (!header) return [];
  return header.split(',').map((p) => p.trim()).filter(Boolean);
}

function refuse(socket: Duplex, status: number, text: string): void {
  const reason = status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

export { refuse as refuseUpgrade };
