/**
 * Drives an Autobahn|JS client speaking its own long-poll transport in a
 * child process (longpoll-autobahn-child.mjs: XMLHttpRequest exists there
 * only): commands go in as JSON lines, answers and events come back the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./longpoll-autobahn-child.mjs', import.meta.url));

export interface LongPollEvent {
  event: string;
  topic?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LongPollAutobahn {
  /** The WAMP session id and what Autobahn|JS reports of its transport. */
  readonly session: number;
  readonly transport: string;
  readonly protocol: string;
  /** Events printed so far (subscriptions' events, the close). */
  readonly events: LongPollEvent[];
  call(
    procedure: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
  ): Promise<{ args: unknown[]; kwargs: Record<string, unknown> }>;
  register(procedure: string): Promise<void>;
  subscribe(topic: string): Promise<void>;
  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<void>;
  /** Leaves (GOODBYE, then the transport's close) and waits for the child to exit; its exit code. */
  leave(): Promise<number | null>;
  /** Ends the child at once. */
  kill(): void;
  /** What the child wrote to stderr. */
  stderr(): string;
}

/** Starts the child against `url` (the long-poll path, e.g. http://127.0.0.1:8080/lp) and waits until it has joined `realm`. */
export function openLongPollAutobahn(url: string, realm = 'realm1', ms = 10_000): Promise<LongPollAutobahn> {
  const child: ChildProcess = spawn(process.execPath, [CHILD, url, realm], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errText = '';
  child.stderr!.on('data', (c: Buffer) => {
    errText += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const events: LongPollEvent[] = [];
  let nextId = 1;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`Autobahn|JS over long-poll did not join within ${ms} ms: ${errText}`));
    }, ms);
    exited.then((code) => {
      clearTimeout(timer);
      for (const w of waiting.values()) w.reject(new Error(`the long-poll child exited (${code}): ${errText}`));
      waiting.clear();
      reject(new Error(`the long-poll child exited (${code}) before joining: ${errText} ${JSON.stringify(events)}`));
    });

    const command = (op: string, fields: Record<string, unknown>) =>
      new Promise<any>((res, rej) => {
        const id = nextId++;
        waiting.set(id, { resolve: res, reject: rej });
        child.stdin!.write(`${JSON.stringify({ id, op, ...fields })}\n`);
      });

    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { id?: number; error?: string; event?: string; [k: string]: unknown };
      if (message.id !== undefined) {
        const w = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.error !== undefined)
          w?.reject(Object.assign(new Error(String(message.error)), { error: message.error, args: message.args }));
        else w?.resolve(message);
        return;
      }
      events.push(message as LongPollEvent);
      if (message.event !== 'open') return;
      clearTimeout(timer);
      resolve({
        session: message.session as number,
        transport: message.transport as string,
        protocol: message.protocol as string,
        events,
        call: async (procedure, args = [], kwargs = {}) => {
          const r = await command('call', { procedure, args, kwargs });
          return { args: r.args ?? [], kwargs: r.kwargs ?? {} };
        },
        register: async (procedure) => void (await command('register', { procedure })),
        subscribe: async (topic) => void (await command('subscribe', { topic })),
        publish: async (topic, args = [], kwargs = {}) => void (await command('publish', { topic, args, kwargs })),
        leave: async () => {
          await command('leave', {});
          return exited;
        },
        kill: () => child.kill('SIGKILL'),
        stderr: () => errText,
      });
    });
  });
}
