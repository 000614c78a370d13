/**
 * The records of the replicated registry (one KV bucket per cluster, see
 * names.ts for the keys), as MessagePack maps. Each is checked field by field
 * when read: a record that does not have the expected shape is ignored.
 *
 * - registration: its callees, in the cluster-wide registration order
 *   (`first` is the head, `last` the tail). Every join or leave is one
 *   compare-and-set of the whole record, so concurrent joins serialise.
 * - session: who a session of another node is, for the meta API and so
 *   that its registrations and subscriptions can be attached to a proxy.
 * - subscription: one node's subscribers of one (match, uri).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Dict } from '../wamp/messages.ts';
import { isDict } from '../wamp/inbound.ts';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import type { InvokePolicy } from '../core/registration.ts';
import type { StoredEvent } from '../core/event-store.ts';
import { isWampId, payloadElements } from './frames.ts';

export interface CalleeEntry {
  node: string;
  incarnation: number;
  session: number;
  concurrency: number | null;
  disclose: boolean;
}

export interface RegistrationRecord {
  realm: string;
  id: number;
  /** ISO-8601: when the registration was first created, the same on every node (meta API). */
  created: string;
  uri: string;
  match: MatchPolicy;
  invoke: InvokePolicy;
  callees: CalleeEntry[];
}

export interface SessionRecord {
  realm: string;
  node: string;
  incarnation: number;
  id: number;
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  authextra?: Dict;
  transport: Dict;
  roles: Dict;
}

export interface SubscriptionRecord {
  realm: string;
  node: string;
  incarnation: number;
  uri: string;
  match: MatchPolicy;
  sessions: number[];
}

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', structuredClone: false, mapsAsObjects: true });

export function encodeRecord(record: object): Uint8Array {
  return packr.pack(record);
}

function decoded(bytes: Uint8Array): Dict | undefined {
  try {
    const value = unpackr.unpack(bytes);
    return isDict(value) ? (value as Dict) : undefined;
  } catch {
    return undefined;
  }
}

const MATCHES: ReadonlySet<unknown> = new Set(['exact', 'prefix', 'wildcard']);
const INVOKES: ReadonlySet<unknown> = new Set(['single', 'roundrobin', 'random', 'first', 'last']);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const MAX_CALLEES = 100_000;

function calleeEntry(v: unknown): CalleeEntry | undefined {
  if (!isDict(v)) return undefined;
  const { node, incarnation, session, concurrency, disclose } = v as Dict;
  if (!isString(node) || !isNumber(incarnation) || !isWampId(session)) return undefined;
  if (concurrency !== null && !(isNumber(concurrency) && concurrency >= 1)) return undefined;
  return { node, incarnation, session, concurrency, disclose: disclose === true };
}

export function registrationRecord(bytes: Uint8Array): RegistrationRecord | undefined {
  const r = decoded(bytes);
  if (!r) return undefined;
  const { realm, id, created, uri, match, invoke, callees } = r;
  if (!isString(realm) || !isWampId(id) || !isString(uri) || !MATCHES.has(match) || !INVOKES.has(invoke)) return undefined;
  if (!isString(created) || Number.isNaN(Date.parse(created))) return undefined;
  if (!Array.isArray(callees) || callees.length > MAX_CALLEES) return undefined;
  const entries = callees.map(calleeEntry);
  if (entries.some((e) => e === undefined)) return undefined;
  return { realm, id, created, uri, match: match as MatchPolicy, invoke: invoke as InvokePolicy, callees: entries as CalleeEntry[] };
}

export function sessionRecord(bytes: Uint8Array): SessionRecord | undefined {
  const r = decoded(bytes);
  if (!r) return undefined;
  const { realm, node, incarnation, id, authid, authrole, authmethod, authprovider, authextra, transport, roles } = r;
  if (!isString(realm) || !isString(node) || !isNumber(incarnation) || !isWampId(id)) return undefined;
  if (!isString(authid) || !isString(authrole) || !isString(authmethod) || !isString(authprovider)) return undefined;
  if (!isDict(transport) || !isDict(roles) || (authextra !== undefined && authextra !== null && !isDict(authextra))) return undefined;
  return {
    realm,
    node,
    incarnation,
    id,
    authid,
    authrole,
    authmethod,
    authprovider,
    authextra: (authextra ?? undefined) as Dict | undefined,
    transport: transport as Dict,
    roles: roles as Dict,
  };
}

export function subscriptionRecord(bytes: Uint8Array): SubscriptionRecord | undefined {
  const r = decoded(bytes);
  if (!r) return undefined;
  const { realm, node, incarnation, uri, match, sessions } = r;
  if (!isString(realm) || !isString(node) || !isNumber(incarnation) || !isString(uri) || !MATCHES.has(match)) return undefined;
  if (!Array.isArray(sessions) || sessions.length > MAX_CALLEES || !sessions.every(isWampId)) return undefined;
  return { realm, node, incarnation, uri, match: match as MatchPolicy, sessions };
}

/** A topic's retained event as the publishing node stored it, ready for the local event store. */
export function retainedRecord(
  bytes: Uint8Array,
  maxDepth: number,
): { realm: string; node: string; event: StoredEvent; bytes: number } | undefined {
  const r = decoded(bytes);
  if (!r || !isString(r.realm) || !isString(r.node) || !isDict(r.event)) return undefined;
  const { publication, topic, timestamp, details, options, payload } = r.event as Dict;
  if (!isWampId(publication) || !isString(topic) || !isString(timestamp) || !isDict(details) || !isDict(options)) return undefined;
  const elements = payloadElements(payload, maxDepth);
  if (!elements) return undefined;
  const event: StoredEvent = { publication, topic, timestamp, details: details as Dict, options: options as Dict, payload: elements };
  return { realm: r.realm, node: r.node, event, bytes: bytes.length };
}
