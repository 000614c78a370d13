/**
 * Frames between nodes: MessagePack arrays `[type, node, incarnation, ...]`.
 * Only nodes of the cluster can publish on its subjects, but a frame is still
 * checked before use: anything that is not a known frame is dropped.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Dict } from '../wamp/messages.ts';
import { isDict } from '../wamp/inbound.ts';
import { portablePayload, rebuiltPayload } from '../serializers/portable.ts';
import type { WirePayload } from '../serializers/encoded-payload.ts';

export enum F {
  /** caller's node → callee's node: [cid, callee session, registration, details, payload] */
  INV = 1,
  /** a further chunk of a progressive call: [cid, details, payload] */
  CHUNK = 2,
  /** cancel: [cid, mode] */
  INT = 3,
  /** callee's node → caller's node: [cid, options, payload] (progress in options) */
  RES = 4,
  /** [cid, details, error uri, payload] */
  ERR = 5,
  /** to a session's node: [session, reason, message] */
  KILL = 6,
  /** to a callee's node: [session, registration, reason] */
  REVOKE_REG = 7,
  /** to a subscriber's node: [session, subscription, reason] */
  REVOKE_SUB = 8,
  /** broadcast: [publication, topic, options, disclose, publisher id, authid, authrole, payload] */
  PUB = 9,
  /** broadcast, every heartbeat: [] */
  HB = 10,
  /** broadcast at a clean exit: [] */
  BYE = 11,
  /** to a node its peers declared dead: [] */
  FENCE = 12,
}

export interface Frame {
  type: F;
  node: string;
  incarnation: number;
  realm: string;
  /** The fields after the realm. */
  body: unknown[];
}

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', structuredClone: false, mapsAsObjects: true });

export function encodeFrame(type: F, node: string, incarnation: number, realm: string, body: unknown[]): Uint8Array {
  return packr.pack([type, node, incarnation, realm, ...body]);
}

export function decodeFrame(bytes: Uint8Array): Frame | undefined {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length < 4 || value.length > 16) return undefined;
  const [type, node, incarnation, realm] = value;
  if (typeof type !== 'number' || type < F.INV || type > F.FENCE) return undefined;
  if (typeof node !== 'string' || typeof incarnation !== 'number' || typeof realm !== 'string') return undefined;
  return { type, node, incarnation, realm, body: value.slice(4) };
}

/** The payload elements of a message (from `at`) as a frame field: [format, data, kinds], or null when there are none. */
export function payloadField(message: readonly unknown[], at: number): unknown {
  const p = portablePayload(message.slice(at));
  return p ? [p.format, p.data, p.kinds] : null;
}

/** The elements to append to a rebuilt message: none, or the one payload; undefined when the field is malformed. */
export function payloadElements(field: unknown, maxDepth: number): WirePayload[] | undefined {
  if (field === null || field === undefined) return [];
  if (!Array.isArray(field) || field.length !== 3) return undefined;
  const payload = rebuiltPayload(field[0], field[1], field[2], maxDepth);
  return payload ? [payload] : undefined;
}

export const dictOr = (value: unknown): Dict | undefined => (isDict(value) ? (value as Dict) : undefined);
export const stringOr = <T extends string | undefined>(value: unknown, fallback: T): string | T =>
  typeof value === 'string' ? value : fallback;
export const isWampId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2 ** 53;
