/** An in-memory Peer: the core under test without any socket. */
import type { Peer, TransportInfo } from '../../src/core/peer.ts';
import type { Router } from '../../src/core/router.ts';
import type { TransportAuth } from '../../src/core/authentication.ts';
import type { Session } from '../../src/core/session.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { EncodedPayload, PAYLOAD_AT, payloadValues } from '../../src/wamp/payload.ts';

export class MemoryPeer implements Peer {
  readonly info: TransportInfo = { type: 'memory', serializer: 'none', peer: 'memory' };
  readonly sent: Outbound[] = [];
  closedWith: string | undefined;

  send(message: Outbound): void {
    // A structured clone, as a serializer would hand the client its own copy;
    // a wire client's payload as values, as an in-process session gets it.
    const at = PAYLOAD_AT.get(message[0]);
    const values =
      at !== undefined && message[at] instanceof EncodedPayload ? [...message.slice(0, at), ...payloadValues(message, at)] : message;
    this.sent.push(structuredClone(values) as Outbound);
  }

  close(reason: string): void {
    this.closedWith = reason;
  }

  /** Removes and returns everything sent so far. */
  take(): Outbound[] {
    return this.sent.splice(0);
  }
}

const ALL_ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

/** A client of `router` over a MemoryPeer. */
export class MemoryClient {
  readonly peer = new MemoryPeer();
  readonly session: Session;
  private nextRequest = 1;

  constructor(
    private readonly router: Router,
    auth?: TransportAuth,
  ) {
    this.session = router.connect(this.peer, auth);
  }

  /** Connects and joins `realm`; returns the client with WELCOME consumed. */
  static join(router: Router, realm = 'realm1', roles: object = ALL_ROLES, auth?: TransportAuth, hello: object = {}): MemoryClient {
    const client = new MemoryClient(router, auth);
    client.send([1, realm, { roles, ...hello }]);
    const [welcome] = client.take();
    if (welcome?.[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  send(message: unknown): void {
    this.router.receive(this.session, message);
  }

  request(): number {
    return this.nextRequest++;
  }

  take(): Outbound[] {
    return this.peer.take();
  }

  /** Registers `uri` and returns the registration ID. */
  register(uri: string, options: object = {}): number {
    const request = this.request();
    this.send([64, request, options, uri]);
    const [reply] = this.take();
    if (reply?.[0] !== 65 || reply[1] !== request) throw new Error(`REGISTER failed: ${JSON.stringify(reply)}`);
    return reply[2] as number;
  }

  subscribe(uri: string, options: object = {}): number {
    const request = this.request();
    this.send([32, request, options, uri]);
    const [reply] = this.take();
    if (reply?.[0] !== 33 || reply[1] !== request) throw new Error(`SUBSCRIBE failed: ${JSON.stringify(reply)}`);
    return reply[2] as number;
  }

  disconnect(): void {
    this.router.transportClosed(this.session);
  }
}
