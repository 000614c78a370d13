/**
 * What a cluster of Kreuz nodes needs from the engine between them: one
 * key-value bucket with create-only and compare-and-set writes and a watch
 * (the replicated registry), and fire-and-forget frames to one node or to
 * every node (calls, events, heartbeats). `nats.ts` is NATS (core subjects
 * and a JetStream KV bucket); `memory.ts` is in-process, with injectable
 * faults, for tests. `testing.ts` holds the conformance suite both pass.
 *
 * Keys are `[-/_=.a-zA-Z0-9]+` (NATS KV's alphabet); the cluster hashes URIs
 * into that. Values and frames are opaque bytes.
 */

export interface KvEntry {
  key: string;
  value: Uint8Array;
  /** Increases with every write to the bucket (NATS: the stream sequence). */
  revision: number;
}

/** One change seen by a watch: `value` undefined when the key was deleted. */
export interface KvChange {
  key: string;
  value: Uint8Array | undefined;
  revision: number;
}

/** A create of an existing key, or an update or delete whose revision is not the key's current one. */
export class KvConflict extends Error {
  constructor(
    readonly key: string,
    /** The key's revision the write lost to, when the engine says (0: unknown or absent). */
    readonly revision: number,
    message = `kv: conflicting write to ${key}`,
  ) {
    super(message);
    this.name = 'KvConflict';
  }
}

/** The engine cannot be reached or cannot write now (no quorum, timed out). */
export class BackplaneUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackplaneUnavailable';
  }
}

export interface KvWatch {
  stop(): void;
}

export type BackplaneStatus = 'disconnected' | 'reconnected';

export interface Backplane {
  /** This node's ID (`[a-z0-9-]+`), the address `send` uses. */
  readonly node: string;
  /** The largest frame the engine carries (NATS: the server's max_payload). */
  readonly maxFrame: number;

  get(key: string): Promise<KvEntry | undefined>;
  /** Writes a key that must not exist; returns its revision. KvConflict when it exists. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes a key whose current revision is `revision`; returns the new one. KvConflict otherwise. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  /** Deletes a key; with `revision`, only while that is its current revision (KvConflict otherwise). Deleting an absent key is not an error without a revision. */
  delete(key: string, revision?: number): Promise<void>;
  /** Writes a key whatever it holds; returns its revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /**
   * Calls `onChange` for every key under `prefix` that exists now, then for
   * every later change, in revision order. Resolves once the current state has
   * been delivered. A watch may skip a superseded revision of a key (NATS does),
   * never the last one.
   */
  watch(prefix: string, onChange: (change: KvChange) => void): Promise<KvWatch>;

  /** A frame to one node. Frames from one sender to one receiver arrive in order; any may be lost. */
  send(node: string, frame: Uint8Array): void;
  /** A frame to every other node listening on `channel` (`[a-z0-9.]+`); never back to the sender. */
  broadcast(channel: string, frame: Uint8Array): void;
  /** Starts hearing broadcasts on `channel`. */
  listen(channel: string): void;
  /** Where frames go: `channel` is undefined for a frame sent to this node. One handler. */
  onFrame(handler: (frame: Uint8Array, channel: string | undefined) => void): void;
  /** Connection changes: frames are lost while disconnected. One handler. */
  onStatus(handler: (status: BackplaneStatus) => void): void;
  /** Stops listening, flushes what was sent, closes. */
  close(): Promise<void>;
}
