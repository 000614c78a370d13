/**
 * What the router must answer to the first message of a case, judged from
 * the fuzzer's own model (wire-model.ts) and the WAMP spec, never from the
 * router's code:
 *
 * - larger than the message size limit: ABORT wamp.error.payload_size_exceeded;
 * - undecodable, not WAMP's plain data (a CBOR tag other than 64 around
 *   bytes, a CBOR bignum, any msgpack extension), or nested deeper than the
 *   decode depth limit: ABORT wamp.error.protocol_violation;
 * - not a non-empty array, not a code a client may send, a message the
 *   session state does not allow (only HELLO or ABORT before HELLO and after
 *   GOODBYE; only AUTHENTICATE or ABORT while a CHALLENGE is pending; no
 *   HELLO or AUTHENTICATE once joined), the wrong number of elements, or an
 *   element of the wrong type (IDs must be integers in [1, 2^53]):
 *   ABORT wamp.error.protocol_violation;
 * - anything else: whatever the router answers (an ERROR, a result, nothing,
 *   an ABORT), checked by the harness's general rules only.
 *
 * Where Kreuz accepts more than the spec (ABORT with arguments, an Options
 * dict on UNSUBSCRIBE/UNREGISTER) or a decoder cannot tell (2^53 + 1 on the
 * wire decodes to 2^53, as in JSON), the verdict is "anything".
 */
import type { SerializerName } from '../../src/serializers/index.ts';
import { describe, encode, view, type Node, type View } from './wire-model.ts';

export type SessionState = 'before-hello' | 'authenticating' | 'joined' | 'after-goodbye';
export const SESSION_STATES: readonly SessionState[] = ['before-hello', 'authenticating', 'joined', 'after-goodbye'];

/** The router's defaults (src/core/limits.ts maxDepth; 1 MiB messages). */
export const MAX_DEPTH = 64;

export const PROTOCOL_VIOLATION = 'wamp.error.protocol_violation';
export const PAYLOAD_SIZE_EXCEEDED = 'wamp.error.payload_size_exceeded';

export type Verdict = { abort: string; why: string } | { abort?: undefined; why: string };

/** Codes a client may send a router (WAMP basic and advanced profiles). */
export const CLIENT_CODES: ReadonlySet<number> = new Set([1, 3, 5, 6, 8, 16, 32, 34, 48, 49, 64, 66, 70]);

type Field = 'id' | 'int' | 'dict' | 'string' | 'list';

/** Spec layouts: fields after the code, the spec's length range, and the longer lengths Kreuz also accepts (verdict: anything). */
const LAYOUTS: Record<number, { name: string; fields: Field[]; min: number; max: number; tolerated?: number }> = {
  1: { name: 'HELLO', fields: ['string', 'dict'], min: 3, max: 3 },
  3: { name: 'ABORT', fields: ['dict', 'string', 'list', 'dict'], min: 3, max: 3, tolerated: 5 },
  5: { name: 'AUTHENTICATE', fields: ['string', 'dict'], min: 3, max: 3 },
  6: { name: 'GOODBYE', fields: ['dict', 'string'], min: 3, max: 3 },
  8: { name: 'ERROR', fields: ['int', 'id', 'dict', 'string', 'list', 'dict'], min: 5, max: 7 },
  16: { name: 'PUBLISH', fields: ['id', 'dict', 'string', 'list', 'dict'], min: 4, max: 6 },
  32: { name: 'SUBSCRIBE', fields: ['id', 'dict', 'string'], min: 4, max: 4 },
  34: { name: 'UNSUBSCRIBE', fields: ['id', 'id', 'dict'], min: 3, max: 3, tolerated: 4 },
  48: { name: 'CALL', fields: ['id', 'dict', 'string', 'list', 'dict'], min: 4, max: 6 },
  49: { name: 'CANCEL', fields: ['id', 'dict'], min: 3, max: 3 },
  64: { name: 'REGISTER', fields: ['id', 'dict', 'string'], min: 4, max: 4 },
  66: { name: 'UNREGISTER', fields: ['id', 'id', 'dict'], min: 3, max: 3, tolerated: 4 },
  70: { name: 'YIELD', fields: ['id', 'dict', 'list', 'dict'], min: 3, max: 5 },
};

/**
 * Where the options (or details) of a message that may carry an opaque
 * payload are: with a string ppt_scheme or enc_algo in them, the Arguments
 * element may be one binary or string value instead of a list (payload
 * passthru, Autobahn's payload transparency).
 */
const PASSTHRU_OPTIONS: Record<number, number> = { 8: 3, 16: 2, 48: 2, 70: 2 };

function allowsOpaque(message: Node[], code: number): boolean {
  const at = PASSTHRU_OPTIONS[code];
  const options = at === undefined ? undefined : message[at];
  if (typeof options !== 'object' || options === null || Array.isArray(options) || Object.getPrototypeOf(options) !== Object.prototype)
    return false;
  const o = options as Record<string, Node>;
  return (
    (Object.hasOwn(o, 'ppt_scheme') && typeof o.ppt_scheme === 'string') || (Object.hasOwn(o, 'enc_algo') && typeof o.enc_algo === 'string')
  );
}

/** Which first codes each state allows. */
const ALLOWED: Record<SessionState, (code: number) => boolean> = {
  'before-hello': (c) => c === 1 || c === 3,
  'after-goodbye': (c) => c === 1 || c === 3,
  authenticating: (c) => c === 5 || c === 3,
  joined: (c) => c !== 1 && c !== 5,
};

const pv = (why: string): Verdict => ({ abort: PROTOCOL_VIOLATION, why });
const anything = (why: string): Verdict => ({ why });

function fits(field: Field, v: View): boolean | 'unknown' {
  if (v.t === 'lax') return 'unknown';
  switch (field) {
    case 'id':
      return v.t === 'num' && Number.isInteger(v.v) && v.v >= 1 && v.v <= 2 ** 53;
    case 'int':
      return v.t === 'num' && Number.isInteger(v.v);
    case 'dict':
      return v.t === 'dict';
    case 'string':
      return v.t === 'str';
    case 'list':
      return v.t === 'list';
  }
}

/** The verdict on `message` as the first message a session in `state` sends over `serializer`. */
export function verdict(message: Node, serializer: SerializerName, state: SessionState, maxMessageSize: number): Verdict {
  const size = encode(message, serializer).length;
  if (size > maxMessageSize) return { abort: PAYLOAD_SIZE_EXCEEDED, why: `${size} bytes, over the limit of ${maxMessageSize}` };
  const d = describe(message, serializer);
  if (d.reject) return pv(d.reject);
  if (d.depth > MAX_DEPTH) return pv(`nested ${d.depth} deep, over the limit of ${MAX_DEPTH}`);
  const top = view(message, serializer);
  if (top.t === 'lax') return anything('the message itself may decode either way');
  if (top.t !== 'list') return pv(`a ${top.t} instead of an array`);
  if (top.items.length === 0) return pv('an empty array');
  const code = view(top.items[0], serializer);
  if (code.t === 'lax') return anything('the code may decode either way');
  if (code.t !== 'num' || !CLIENT_CODES.has(code.v)) return pv(`code ${code.t === 'num' ? code.v : code.t} is no client message`);
  if (!ALLOWED[state](code.v)) return pv(`${LAYOUTS[code.v].name} is not allowed ${state}`);
  const layout = LAYOUTS[code.v];
  const length = top.items.length;
  if (length < layout.min || length > (layout.tolerated ?? layout.max)) return pv(`${layout.name} with ${length} elements`);
  if (length > layout.max) return anything(`${layout.name} with ${length} elements: Kreuz accepts that`);
  let unknown = false;
  for (let i = 1; i < length; i++) {
    const item = view(top.items[i], serializer);
    // An opaque payload: the last element, where Arguments go, with passthru options.
    const opaque = layout.fields[i - 1] === 'list' && i === length - 1 && (item.t === 'bytes' || item.t === 'str');
    if (opaque && allowsOpaque(message as Node[], code.v)) continue;
    const ok = fits(layout.fields[i - 1], item);
    if (ok === false) return pv(`${layout.name} element ${i} is not a ${layout.fields[i - 1]}`);
    if (ok === 'unknown') unknown = true;
  }
  return anything(unknown ? 'an element may decode either way' : 'a well-formed message');
}
