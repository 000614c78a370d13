/**
 * One Python component (a container's or the router's) in a child process:
 * python-runner.py under the configured Python, the component's class
 * loaded from its `pythonpath`, its session joined to `realm`.
 *
 * A container component connects over its own `transport`, as in Crossbar,
 * and authenticates however its class does. A router component runs inside
 * Crossbar's router process and joins without authentication, as `role`
 * (default "anonymous") with a random authid; here it gets a connection of
 * its own to the router (a socket pair, fd 4 of its process: nothing listens,
 * no other process can use it), on which it is welcomed with that identity
 * whatever method it offers.
 *
 * It has started once its session is ready (joined, onJoin done), or
 * READY_GRACE_MS after it joined if onJoin is still running (many examples'
 * onJoin loops forever): Crossbar waits for ready before the next worker.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Authenticator, TransportAuth } from '../../core/authentication.ts';
import type { Logger } from '../../core/logger.ts';
import type { Router } from '../../core/router.ts';
import { attachRawSocket } from '../../transports/rawsocket.ts';
import { describeExit, logLines, WorkerChild } from './child.ts';
import { RUNNER } from './python.ts';

export const READY_GRACE_MS = 3000;
const CONTROL_LINE_MAX = 8 * 1024 * 1024;
/** How long a component may take to join before its start counts as failed. */
export const JOIN_DEADLINE_MS = 60_000;

/** What the runner is told (python-runner.py's first line on fd 3). */
export interface RunnerConfig {
  id: string;
  classname: string;
  realm: string;
  extra: unknown;
  /** A container component's transport as configured; null for a router component. */
  transport: unknown;
  cbdir: string;
  loglevel: 'info' | 'debug';
}

export interface ComponentOptions {
  /** Its worker's id and its own, e.g. "worker002" and "component001". */
  worker: string;
  id: string;
  python: string;
  env: NodeJS.ProcessEnv;
  runner: RunnerConfig;
  /** A router component: the router it joins, and as which role. */
  router?: { router: Router; authrole: string };
  logger: Logger;
  graceMs: number;
}

export interface ComponentEnd {
  /** It failed (did not start, an exception escaped it, its connection broke); false when it ended cleanly or was stopped. */
  failed: boolean;
  why: string;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

export class ComponentProcess {
  /** Resolves once it has started (see above); rejects with why it did not. */
  readonly started: Promise<void>;
  readonly ended: Promise<ComponentEnd>;
  private readonly child: WorkerChild;
  private readonly fields: Record<string, string>;
  private failure: string | undefined;

  constructor(private readonly o: ComponentOptions) {
    this.fields = { worker: o.worker, component: o.id };
    this.child = new WorkerChild({
      fields: this.fields,
      command: o.python,
      args: [RUNNER],
      env: o.env,
      extraPipes: o.router ? 2 : 1,
      logger: o.logger,
    });
    const stdio = this.child.process.stdio;
    const control = stdio[3] as Socket | undefined;
    control?.on('error', () => {}); // its end is the process's end
    if (o.router && stdio[4])
      attachRawSocket(o.router.router, stdio[4] as Socket, { auth: trustedAuth(o.router.authrole), logger: o.logger });

    let onJoined: () => void = () => {};
    let onReady: () => void = () => {};
    const joinedOrReady = new Promise<void>((resolve) => {
      onReady = resolve;
      onJoined = () => setTimeout(resolve, READY_GRACE_MS).unref();
    });
    if (control) {
      control.write(`${JSON.stringify(o.runner)}\n`);
      // A control line is one JSON message (a log record with a long traceback included): not cut.
      logLines(control, (line) => this.onControl(line, onJoined, onReady), CONTROL_LINE_MAX);
    }

    this.ended = this.child.exited.then((exit) => {
      if (this.child.stopping) return { failed: false, why: 'stopped' };
      const failed = exit.code !== 0;
      return { failed, why: this.failure ?? (failed ? `its process ended (${describeExit(exit)})` : 'its session ended') };
    });
    let deadline: NodeJS.Timeout | undefined;
    this.started = Promise.race([
      joinedOrReady,
      this.ended.then((end) => {
        throw new Error(`component ${o.id} of ${o.worker} (${o.runner.classname}) did not start: ${end.why}`);
      }),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => {
          reject(new Error(`component ${o.id} of ${o.worker} (${o.runner.classname}) did not join within ${JOIN_DEADLINE_MS / 1000} s`));
          void this.stop();
        }, JOIN_DEADLINE_MS);
      }),
    ]).finally(() => clearTimeout(deadline));
    this.started.catch(() => {}); // its owner awaits it; a late rejection is not unhandled
  }

  get running(): boolean {
    return this.child.running;
  }

  /** SIGTERM (the runner leaves with GOODBYE), SIGKILL after the grace period. */
  async stop(): Promise<void> {
    await this.child.stop(this.o.graceMs);
  }

  private onControl(line: string, onJoined: () => void, onReady: () => void): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { logger } = this.o;
    if (message.log && typeof message.log === 'object') {
      const { level, text } = message.log as { level?: string; text?: string };
      const at = (LEVELS.includes(level ?? '') ? level : 'info') as Level;
      logger[at](this.fields, String(text ?? ''));
    } else if (message.joined && typeof message.joined === 'object') {
      const { session, authid, authrole } = message.joined as Record<string, unknown>;
      logger.info(
        { ...this.fields, session, authrole },
        `component ${this.o.id} (${this.o.runner.classname}) joined realm "${this.o.runner.realm}"`,
      );
      logger.debug({ ...this.fields, authid }, 'component authid');
      onJoined();
    } else if (message.ready === true) {
      onReady();
    } else if (typeof message.failed === 'string') {
      this.failure ??= message.failed;
      logger.error(this.fields, `component ${this.o.id} (${this.o.runner.classname}): ${message.failed}`);
    }
  }
}

/** The methods a component may offer in its HELLO; each welcomes it at once with its fixed identity. */
const METHODS = ['anonymous', 'ticket', 'wampcra', 'cryptosign', 'scram', 'cookie', 'tls'];

/** A router component's authentication: none (it is Kreuz's own child, on a socket only it holds), as `authrole`. */
export function trustedAuth(authrole: string): TransportAuth {
  const authenticator = (method: string): Authenticator => ({
    method,
    start: () => ({ kind: 'welcome', principal: { authid: randomUUID(), authrole, authprovider: 'component' } }),
  });
  return new Map(METHODS.map((m) => [m, authenticator(m)]));
}
