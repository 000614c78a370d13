/**
 * A raw WebSocket WAMP client (JSON) for the authentication tests over real
 * sockets: connects from 127.0.0.1, optionally with an X-Forwarded-For
 * header, and reads the router's messages one by one (every wait bounded).
 */
import WebSocket from 'ws';

export const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

export class WsClient {
  private readonly inbox: unknown[][] = [];
  private waiting: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)));
      this.waiting?.();
    });
    ws.on('close', () => this.waiting?.());
  }

  static open(url: string, forwardedFor?: string): Promise<WsClient> {
    const ws = new WebSocket(url, ['wamp.2.json'], { headers: forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  send(message: unknown[]): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message from the router. */
  async next(within = 5000): Promise<unknown[]> {
    const until = Date.now() + within;
    while (this.inbox.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('closed without a message');
      if (Date.now() > until) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.inbox.shift()!;
  }

  close(): void {
    this.ws.close();
  }
}

/** "wamp.error.not_authorized" for an ABORT, "welcome" for a WELCOME, else the message as JSON. */
export function outcomeOf(message: unknown[]): unknown {
  return message[0] === 3 ? message[2] : message[0] === 2 ? 'welcome' : JSON.stringify(message);
}
