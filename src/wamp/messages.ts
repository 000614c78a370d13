/**
 * Tuple types of the messages a router receives, after the shape check in
 * inbound.ts, and small helpers to build what it sends.
 */
import { MessageType as T } from './codes.ts';

export type Dict = Record<string, unknown>;
export type Args = unknown[];

export type Hello = [typeof T.HELLO, string, Dict];
export type Abort = [typeof T.ABORT, Dict, string, ...unknown[]];
export type Authenticate = [typeof T.AUTHENTICATE, string, Dict];
export type Goodbye = [typeof T.GOODBYE, Dict, string];
/** Only ERROR replies to INVOCATION reach a router. */
export type ErrorMsg = [typeof T.ERROR, typeof T.INVOCATION, number, Dict, string, Args?, Dict?];
export type Publish = [typeof T.PUBLISH, number, Dict, string, Args?, Dict?];
export type Subscribe = [typeof T.SUBSCRIBE, number, Dict, string];
export type Unsubscribe = [typeof T.UNSUBSCRIBE, number, number, Dict?];
export type Call = [typeof T.CALL, number, Dict, string, Args?, Dict?];
export type Cancel = [typeof T.CANCEL, number, Dict];
export type Register = [typeof T.REGISTER, number, Dict, string];
export type Unregister = [typeof T.UNREGISTER, number, number, Dict?];
export type Yield = [typeof T.YIELD, number, Dict, Args?, Dict?];

export type Inbound =
  | Hello
  | Abort
  | Authenticate
  | Goodbye
  | ErrorMsg
  | Publish
  | Subscribe
  | Unsubscribe
  | Call
  | Cancel
  | Register
  | Unregister
  | Yield;

/** Any message the router sends: [code, ...fields]. */
export type Outbound = [number, ...unknown[]];

/** ABORT carries exactly 3 elements: Autobahn|Python rejects more. */
export function abort(reason: string, message?: string): Outbound {
  return [T.ABORT, message === undefined ? {} : { message }, reason];
}

/** GOODBYE carries exactly 3 elements, like ABORT. */
export function goodbye(reason: string, message?: string): Outbound {
  return [T.GOODBYE, message === undefined ? {} : { message }, reason];
}

/**
 * ERROR in reply to a request. `args` is included only when given, so the
 * payload of a callee's error passes through exactly as it was sent.
 */
export function error(requestType: number, requestId: number, uri: string, args?: Args, kwargs?: Dict, details: Dict = {}): Outbound {
  const msg: Outbound = [T.ERROR, requestType, requestId, details, uri];
  if (args !== undefined) msg.push(args);
  if (kwargs !== undefined) msg.push(kwargs);
  return msg;
}

/**
 * Appends the Arguments and ArgumentsKw of `source` (starting at `from`) to
 * `head`, exactly as they were sent: absent stays absent.
 */
export function withPayload(head: Outbound, source: readonly unknown[], from: number): Outbound {
  for (let i = from; i < source.length; i++) head.push(source[i]);
  return head;
}
