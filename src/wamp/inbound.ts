/**
 * Shape check of every message a router receives, before it touches state
 * (WAMP: basic/messages.md; lengths as Autobahn's parser accepts them).
 * Type errors, wrong lengths, out-of-range IDs and badly typed known options
 * are protocol violations. URI *syntax* is checked later by dealer and broker,
 * because the spec answers a bad URI with an ERROR, not an ABORT.
 */
import { MessageType as T, messageName } from './codes.ts';
import { isId } from './ids.ts';
import type { Dict, Inbound } from './messages.ts';
import { EncodedPayload, PASSTHRU_KEYS, PAYLOAD_AT, type ElementKind } from './payload.ts';
import { MATCH_POLICIES } from './uri-syntax.ts';

export class ShapeError {
  constructor(readonly reason: string) {}
}

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isList: Check = Array.isArray;
const isInt: Check = (v) => typeof v === 'number' && Number.isInteger(v);
const nonNegativeInt: Check = (v) => isInt(v) && (v as number) >= 0;
const positiveInt: Check = (v) => isInt(v) && (v as number) >= 1;
const listOf =
  (item: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(item);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);

const MATCH = oneOf(...MATCH_POLICIES);

/** Passthru options (see payload.ts) are strings; with ppt_scheme or enc_algo an opaque payload may stand at the Arguments position. */
const PASSTHRU_RULES = Object.fromEntries(PASSTHRU_KEYS.map((key) => [key, isString]));

/**
 * Known options per message type and what their values must be; unknown keys
 * are ignored (WAMP MUST). Looked up through Maps only: an option named
 * "valueOf" or "__proto__" is data, never a member of Object.prototype.
 */
const OPTION_RULES = rulesByType({
  [T.PUBLISH]: {
    acknowledge: isBool,
    exclude_me: isBool,
    disclose_me: isBool,
    retain: isBool,
    exclude: listOf(isId),
    eligible: listOf(isId),
    exclude_authid: listOf(isString),
    exclude_authrole: listOf(isString),
    eligible_authid: listOf(isString),
    eligible_authrole: listOf(isString),
    ...PASSTHRU_RULES,
  },
  [T.SUBSCRIBE]: { match: MATCH, get_retained: isBool },
  [T.CALL]: {
    timeout: nonNegativeInt,
    receive_progress: isBool,
    disclose_me: isBool,
    progress: isBool,
    ...PASSTHRU_RULES,
  },
  [T.CANCEL]: { mode: oneOf('skip', 'kill', 'killnowait') },
  [T.REGISTER]: {
    match: MATCH,
    invoke: oneOf('single', 'roundrobin', 'random', 'first', 'last'),
    concurrency: positiveInt,
    force_reregister: isBool,
    disclose_caller: isBool,
  },
  [T.YIELD]: { progress: isBool, ...PASSTHRU_RULES },
  [T.ERROR]: PASSTHRU_RULES,
});

function rulesByType(table: Record<number, Record<string, Check>>): Map<number, Map<string, Check>> {
  return new Map(Object.entries(table).map(([code, rules]) => [Number(code), new Map(Object.entries(rules))]));
}

// Field checks after the type code, and how many trailing ones are optional.
// The payload elements (from PAYLOAD_AT on) are checked by checkPayload, not here.
interface Layout {
  fields: Check[];
  optional: number;
  options?: number; // index of the Options/Details dict whose known keys are checked
}

const isDictCheck: Check = isDict;
const isIdCheck: Check = isId;

const LAYOUTS = new Map<unknown, Layout>(
  Object.entries({
    [T.HELLO]: { fields: [isString, isDictCheck], optional: 0 },
    [T.ABORT]: { fields: [isDictCheck, isString, isList, isDictCheck], optional: 2 },
    [T.AUTHENTICATE]: { fields: [isString, isDictCheck], optional: 0 },
    [T.GOODBYE]: { fields: [isDictCheck, isString], optional: 0 },
    [T.ERROR]: {
      fields: [(v) => v === T.INVOCATION, isIdCheck, isDictCheck, isString, isList, isDictCheck],
      optional: 2,
      options: 3,
    },
    [T.PUBLISH]: { fields: [isIdCheck, isDictCheck, isString, isList, isDictCheck], optional: 2, options: 2 },
    [T.SUBSCRIBE]: { fields: [isIdCheck, isDictCheck, isString], optional: 0, options: 2 },
    [T.UNSUBSCRIBE]: { fields: [isIdCheck, isIdCheck, isDictCheck], optional: 1 },
    [T.CALL]: { fields: [isIdCheck, isDictCheck, isString, isList, isDictCheck], optional: 2, options: 2 },
    [T.CANCEL]: { fields: [isIdCheck, isDictCheck], optional: 0, options: 2 },
    [T.REGISTER]: { fields: [isIdCheck, isDictCheck, isString], optional: 0, options: 2 },
    [T.UNREGISTER]: { fields: [isIdCheck, isIdCheck, isDictCheck], optional: 1 },
    [T.YIELD]: { fields: [isIdCheck, isDictCheck, isList, isDictCheck], optional: 2, options: 2 },
  } satisfies Record<number, Layout>).map(([code, layout]) => [Number(code), layout]),
);

/** Returns the message, typed, or a ShapeError saying what is wrong with it. */
export function checkInbound(msg: unknown): Inbound | ShapeError {
  if (!Array.isArray(msg) || msg.length === 0) return new ShapeError('a WAMP message must be a non-empty array');
  const code = msg[0];
  const layout = LAYOUTS.get(code);
  if (!layout) return new ShapeError(`unexpected ${messageName(code)} from a client`);
  const name = messageName(code);
  const max = layout.fields.length + 1;
  const min = max - layout.optional;
  const encoded = msg[msg.length - 1] instanceof EncodedPayload ? (msg[msg.length - 1] as EncodedPayload) : undefined;
  const length = encoded ? msg.length - 1 + encoded.count : msg.length;
  if (length < min || length > max) {
    return new ShapeError(`${name} must have ${min === max ? min : `${min} to ${max}`} elements, got ${length}`);
  }
  const payloadAt = PAYLOAD_AT.get(code as number) ?? msg.length;
  for (let i = 1; i < Math.min(msg.length, payloadAt); i++) {
    if (!layout.fields[i - 1](msg[i])) return new ShapeError(`${name} element ${i} has the wrong type or value`);
  }
  if (layout.options !== undefined) {
    const problem = checkOptions(code as number, msg[layout.options] as Dict);
    if (problem) return new ShapeError(`${name} ${problem}`);
  }
  if (length > payloadAt) {
    const kinds = encoded ? encoded.kinds : msg.slice(payloadAt).map(kindOf);
    const problem = checkPayload(kinds, msg[layout.options!] as Dict);
    if (problem) return new ShapeError(`${name} ${problem}`);
  }
  if (code === T.HELLO) {
    const problem = checkHelloDetails(msg[2] as Dict);
    if (problem) return new ShapeError(`HELLO ${problem}`);
  }
  return msg as Inbound;
}

/**
 * Arguments must be a list and ArgumentsKw a dict; with passthru options,
 * the Arguments position may instead hold one opaque payload (binary, or a
 * string: Autobahn's payload transparency allows both there).
 */
function checkPayload(kinds: readonly ElementKind[], options: Dict): string | undefined {
  if (kinds[0] === 'list' && (kinds.length === 1 || kinds[1] === 'dict')) return undefined;
  if (kinds.length === 1 && (kinds[0] === 'binary' || kinds[0] === 'string') && isPassthru(options)) return undefined;
  return 'payload: Arguments must be a list and ArgumentsKw a dict (an opaque payload needs ppt_scheme or enc_algo)';
}

function isPassthru(options: Dict): boolean {
  return (
    (Object.hasOwn(options, 'ppt_scheme') && isString(options.ppt_scheme)) ||
    (Object.hasOwn(options, 'enc_algo') && isString(options.enc_algo))
  );
}

/** The kind of one payload element given as a value (a message made in process). */
export function kindOf(value: unknown): ElementKind {
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'binary';
  if (typeof value === 'string') return 'string';
  return isDict(value) ? 'dict' : 'other';
}

/** PUBLISH.Options as the inbound check accepts them (for publications the router makes itself, e.g. testaments). */
export function checkPublishOptions(options: Dict): string | undefined {
  return checkOptions(T.PUBLISH, options);
}

function checkOptions(code: number, options: Dict): string | undefined {
  const rules = OPTION_RULES.get(code);
  if (!rules) return undefined;
  for (const [key, rule] of rules) {
    if (!Object.hasOwn(options, key)) continue;
    const value = options[key];
    if (value !== undefined && !rule(value)) return `option "${key}" has an invalid value`;
  }
  return undefined;
}

const CLIENT_ROLES = new Set(['publisher', 'subscriber', 'caller', 'callee']);

/** HELLO.Details.roles: a non-empty dict of client roles whose features are booleans. */
function checkHelloDetails(details: Dict): string | undefined {
  const roles = details.roles;
  if (!isDict(roles) || Object.keys(roles).length === 0) return 'Details.roles must be a non-empty dict';
  for (const [role, value] of Object.entries(roles)) {
    if (!CLIENT_ROLES.has(role)) continue; // unknown keys are ignored (WAMP MUST)
    if (!isDict(value)) return `Details.roles.${role} must be a dict`;
    const features = value.features;
    if (features === undefined) continue;
    if (!isDict(features)) return `Details.roles.${role}.features must be a dict`;
    for (const [feature, flag] of Object.entries(features)) {
      if (typeof flag !== 'boolean') return `feature ${role}.${feature} must be a boolean`;
    }
  }
  if (details.authmethods !== undefined && !listOf(isString)(details.authmethods)) {
    return 'Details.authmethods must be a list of strings';
  }
  if (details.authid !== undefined && typeof details.authid !== 'string') return 'Details.authid must be a string';
  return undefined;
}
