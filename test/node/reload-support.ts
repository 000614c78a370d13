/**
 * Helpers for the reload tests: Crossbar-shaped configs to start from and
 * change, Autobahn|JS clients (anonymous or ticket) that remember how their
 * session ended, and live traffic (calls and publishes) kept going while a
 * reload happens.
 */
import assert from 'node:assert/strict';
import { autobahn } from '../helpers/autobahn-js.ts';
import { eventually as waitFor } from './support.ts';

export const TICKET = 'alice-ticket-123';

/** A permission of role "user" (Crossbar shape). */
export interface Permission {
  uri: string;
  match?: string;
  allow: Partial<Record<'call' | 'register' | 'publish' | 'subscribe', boolean>>;
}

export interface ConfigShape {
  port?: number;
  /** Realms by name: each a list of permissions of role "user" (Crossbar shape). */
  realms: Record<string, Permission[]>;
  /** Ticket principals: authid -> ticket (role "user", or "trusted" for ones named admin*; every realm lists both roles). */
  principals?: Record<string, string>;
  tls?: { key: string; certificate: string };
  limits?: Record<string, number>;
  logLevel?: string;
}

/** A one-transport node: WebSocket at /ws with anonymous (role "user") and ticket authentication. */
export function nodeConfig(shape: ConfigShape): Record<string, unknown> {
  const principals = Object.fromEntries(
    Object.entries(shape.principals ?? { alice: TICKET }).map(([authid, ticket]) => [
      authid,
      { ticket, role: authid.startsWith('admin') ? 'trusted' : 'user' },
    ]),
  );
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: Object.entries(shape.realms).map(([name, permissions]) => ({
          name,
          // "trusted" may do anything; listed so that admin principals can be given it.
          roles: [{ name: 'user', permissions }, { name: 'trusted' }],
        })),
        transports: [
          {
            type: 'web',
            endpoint: { type: 'tcp', port: shape.port ?? 0, interface: '127.0.0.1', ...(shape.tls && { tls: shape.tls }) },
            paths: {
              ws: {
                type: 'websocket',
                auth: { anonymous: { type: 'static', role: 'user' }, ticket: { type: 'static', principals } },
              },
            },
          },
        ],
      },
    ],
    kreuz: { ...(shape.limits && { limits: shape.limits }), ...(shape.logLevel && { log: { level: shape.logLevel } }) },
  };
}

/** Everything on every URI for role "user". */
export const ALL: Permission[] = [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }];

export interface Client {
  session: any;
  details: any;
  /** Resolves with the close reason (e.g. wamp.close.close_realm) once the session ends. */
  ended: Promise<{ reason: string; details: any }>;
  isOpen(): boolean;
  close(): Promise<void>;
}

export interface JoinOptions {
  realm: string;
  authid?: string;
  ticket?: string;
}

/** Joins with Autobahn|JS (ticket when `ticket` is given, else anonymous); rejects with the ABORT reason. */
export function join(url: string, o: JoinOptions): Promise<Client> {
  const connection = new autobahn.Connection({
    url,
    realm: o.realm,
    ...(o.ticket !== undefined ? { authmethods: ['ticket'], authid: o.authid, onchallenge: () => o.ticket } : {}),
    max_retries: 0,
    retry_if_unreachable: false,
  });
  let ended: (value: { reason: string; details: any }) => void = () => {};
  const endedPromise = new Promise<{ reason: string; details: any }>((resolve) => {
    ended = resolve;
  });
  let open = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Autobahn|JS did not join ${o.realm} within 5 s`)), 5000);
    connection.onopen = (session: any, details: any) => {
      clearTimeout(timer);
      open = true;
      resolve({
        session,
        details,
        ended: endedPromise,
        isOpen: () => open,
        close: () =>
          new Promise<void>((done) => {
            if (!open) return done();
            void endedPromise.then(() => done());
            connection.close();
          }),
      });
    };
    connection.onclose = (reason: string, details: any) => {
      clearTimeout(timer);
      const wasOpen = open;
      open = false;
      ended({ reason: details?.reason ?? reason, details });
      if (!wasOpen) reject(new Error(`refused: ${details?.reason ?? reason} ${details?.message ?? ''}`));
      return true; // no reconnect
    };
    connection.open();
  });
}

/** The error URI a promise (an Autobahn|JS call) rejects with; fails if it fulfils. */
export async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err: any) {
    return err?.error ?? String(err);
  }
  assert.fail('expected an error');
}

/**
 * Calls `procedure` and publishes to `topic` (acknowledged) from each
 * client, `rounds` times in turn, as fast as answers come: traffic that is
 * in flight whenever a reload happens. Counts answers and failures.
 */
export class Traffic {
  ok = 0;
  failures: string[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clients: Client[],
    private readonly procedure: string,
    private readonly topic: string,
    private readonly rounds = 2000,
  ) {}

  start(): this {
    this.running = (async () => {
      for (let round = 0; round < this.rounds && !this.stopped; round++) {
        await Promise.all(
          this.clients.map(async (client, i) => {
            try {
              const answer = await client.session.call(this.procedure, [i, round]);
              assert.deepEqual(answer, [i, round]);
              await client.session.publish(this.topic, [i, round], {}, { acknowledge: true });
              this.ok++;
            } catch (err: any) {
              this.failures.push(err?.error ?? String(err));
            }
          }),
        );
      }
    })();
    return this;
  }

  /** Stops after the round under way; resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** Waits until `check()` holds, polling every 10 ms; fails naming `what` after `ms`. */
/** support.ts's `eventually`, with the longer wait a reload under traffic may need. */
export const eventually = (check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> => waitFor(check, what, ms);
