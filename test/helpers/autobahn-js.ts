/** Opens Autobahn|JS sessions against a test router (Autobahn|JS uses Node's global WebSocket), and waits on them. */
import assert from 'node:assert/strict';
// @ts-expect-error Autobahn|JS ships no types
import autobahn from 'autobahn';

export type AbSerializer = 'json' | 'msgpack' | 'cbor';

// Autobahn|JS's own serializer objects (msgpack5 and node-cbor inside).
const makeSerializer: Record<AbSerializer, () => unknown> = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

export interface AbClient {
  // Autobahn|JS's Session object
  session: any;
  details: any;
  /** Leaves with GOODBYE and closes the connection. */
  close(): Promise<void>;
}

export async function openAutobahn(url: string, serializer: AbSerializer, realm = 'realm1'): Promise<AbClient> {
  const connection = new autobahn.Connection({
    url,
    realm,
    serializers: [makeSerializer[serializer]()],
    max_retries: 0,
    retry_if_unreachable: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Autobahn|JS did not connect within 5 s')), 5000);
    connection.onopen = (session: any, details: any) => {
      clearTimeout(timer);
      resolve({
        session,
        details,
        close: () =>
          new Promise<void>((done) => {
            if (!connection.isOpen) return done();
            connection.onclose = () => {
              done();
              return true; // do not reconnect
            };
            connection.close();
          }),
      });
    };
    connection.onclose = (reason: string, details: any) => {
      clearTimeout(timer);
      reject(new Error(`Autobahn|JS connection closed: ${reason} ${JSON.stringify(details)}`));
      return true;
    };
    connection.open();
  });
}

/** Resolves with the value, or rejects if nothing came within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The reason `promise` rejects with; fails if it fulfils, or if it does not settle within `ms`. */
export async function rejection(promise: Promise<unknown>, ms = 3000, what = 'call'): Promise<any> {
  try {
    await within(promise, ms, what);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${what}: nothing within`)) throw err;
    return err;
  }
  assert.fail(`${what}: expected the promise to reject`);
}

/** The reason `promise` rejects with, however long that takes; fails if it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the promise to reject');
}

/** Waits until `check()` is true, polling; fails after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Records every message of type `type` the Autobahn|JS session receives,
 * exactly as decoded, before Autobahn|JS handles it.
 */
export function tap(session: any, type: number): any[][] {
  const seen: any[][] = [];
  const original = session._MESSAGE_MAP[type];
  session._MESSAGE_MAP[type] = (msg: any[]) => {
    seen.push(msg);
    original(msg);
  };
  return seen;
}

export { autobahn };
