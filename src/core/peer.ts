import type { Outbound } from '../wamp/messages.ts';

/** What the core knows of a connection: where it comes from and how it speaks. */
export interface TransportInfo {
  type: 'websocket' | 'rawsocket' | 'longpoll' | 'http' | 'memory';
  /** Serializer name, e.g. "json". */
  serializer: string;
  /**
   * Remote address, e.g. "tcp:127.0.0.1:53512". Behind a trusted proxy
   * (WebSocket `trustedProxies`): the client's from X-Forwarded-For, without
   * port, e.g. "tcp:203.0.113.7".
   */
  peer: string;
  /** The client's IP address (behind a trusted proxy: the forwarded one); what authentication throttling keys by. */
  address?: string;
  /** Set when `peer` came from X-Forwarded-For: the trusted proxy's own peer string. */
  via?: string;
  /**
   * TLS channel ids by binding type, for authentication with channel
   * binding: `tls-unique` is SHA-256 of the first Finished message (TLS <= 1.2).
   */
  channelId?: Readonly<Record<string, Uint8Array>>;
}

/**
 * The core's only view of a transport. A transport turns its connection into
 * a Peer; the core never touches sockets.
 */
export interface Peer {
  readonly info: TransportInfo;
  /** Queue one message for the client. Must not throw. */
  send(message: Outbound): void;
  /** Close the connection after what was sent so far. `reason` is for the transport's close frame and logs. */
  close(reason: string): void;
}
