/** Opens Autobahn|JS sessions against a test router (Autobahn|JS uses Node's global WebSocket). */
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

export { autobahn };
