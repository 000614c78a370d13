/** WAMP message type codes (WAMP: basic/messages.md, advanced/messages.md). */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

const names = new Map<number, string>(Object.entries(MessageType).map(([k, v]) => [v, k]));

/** Human-readable name of a message code, for error texts and logs. */
export function messageName(code: unknown): string {
  if (typeof code !== 'number') return `message type of type ${Array.isArray(code) ? 'array' : typeof code}`;
  // Never String() of wire data beyond numbers: an object with own "toString" and "valueOf" throws.
  return names.get(code) ?? `message type ${code}`;
}
