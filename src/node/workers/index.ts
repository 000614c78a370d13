/**
 * The workers of a node beside its router: the router's `components`, and
 * `guest` and `container` workers, started in the order of the config once
 * the router listens (Crossbar starts a router's components before its
 * transports; here clients may connect while the components still start),
 * each after the one before it has started. A worker that does not start
 * fails the whole start, as in Crossbar.
 *
 * Ids are Crossbar's: a worker without "id" is "worker001", "worker002", ...
 * and a component without one "component001", ..., counted over the node in
 * config order.
 *
 * At shutdown (`shutdown`), nothing restarts any more; the node shuts down
 * first (calls in flight finish, every session gets GOODBYE, components
 * included), then every process still running gets SIGTERM, and SIGKILL
 * after the grace period.
 */
import type { Logger } from '../../core/logger.ts';
import type { Router } from '../../core/router.ts';
import type { KreuzConfig } from '../../config/schema.ts';
import { resolveFile } from '../../config/paths.ts';
import { ComponentGroup, type ComponentsContext } from './container.ts';
import { GuestWorker } from './guest.ts';
import { DEFAULT_GRACE_MS, pythonFor } from './lookup.ts';

export interface WorkersOptions {
  /** None (a node from flags): no workers. */
  config: KreuzConfig | undefined;
  /** The node directory: the config file's directory (Crossbar's cbdir). */
  cbdir: string;
  router: Router;
  logger: Logger;
  /** Called when a container ended and the node's shutdown triggers stop the node with it. */
  stopNode(reason: string): void;
  graceMs?: number;
}

interface Worker {
  describe: string;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export class Workers {
  private readonly workers: Worker[] = [];
  private stopping = false;
  private nodeStopAsked = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly o: WorkersOptions) {
    const { config, cbdir, logger } = o;
    const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
    const triggers = [config?.controller?.options?.shutdown ?? 'shutdown_on_worker_exit'].flat();
    const ctx: ComponentsContext = {
      cbdir,
      router: o.router,
      logger,
      graceMs,
      loglevel: isDebug(logger) ? 'debug' : 'info',
      holding: () => this.stopping,
      containerEnded: (id) => {
        if (this.stopping || this.nodeStopAsked) return;
        if (triggers.includes('shutdown_on_worker_exit')) {
          this.nodeStopAsked = true; // once: a second request would be a second signal
          o.stopNode(`container worker ${id} ended, and the node's shutdown trigger "shutdown_on_worker_exit" stops the node with it`);
        }
      },
    };
    let workerNo = 1;
    let componentNo = 1;
    const componentIds = <T extends { id?: string }>(list: readonly T[]) =>
      list.map((c) => ({ id: c.id ?? `component${String(componentNo++).padStart(3, '0')}`, config: c }));
    const pythonpath = (paths: readonly string[] | undefined) => (paths ?? []).map((p) => resolveFile(cbdir, p));
    const kreuzPython = config?.kreuz?.python;

    for (const worker of config?.workers ?? []) {
      const id = worker.id ?? `worker${String(workerNo++).padStart(3, '0')}`;
      if (worker.type === 'router') {
        const components = componentIds((worker.components ?? []).flatMap((c) => (c.type === 'class' ? [c] : [])));
        if (components.length === 0) continue;
        const group = new ComponentGroup(
          {
            id,
            kind: 'router',
            components,
            python: pythonFor(worker.options?.python, kreuzPython),
            pythonpath: pythonpath(worker.options?.pythonpath),
            // In Crossbar the router's process hosts its components: its env is theirs.
            env: worker.options?.env,
          },
          ctx,
        );
        this.workers.push({ describe: `the components of router worker ${id}`, start: () => group.start(), stop: () => group.stop() });
      } else if (worker.type === 'guest') {
        const guest = new GuestWorker({ id, config: worker, cbdir, logger, graceMs });
        this.workers.push({ describe: `guest worker ${id}`, start: () => guest.start(), stop: () => guest.stop() });
      } else {
        const options = worker.options ?? {};
        if (options.disabled === true) {
          logger.info({ worker: id }, `container worker ${id} is disabled: not started`);
          continue;
        }
        const components = componentIds((worker.components ?? []).flatMap((c) => (c.type === 'class' ? [c] : [])));
        const group = new ComponentGroup(
          {
            id,
            kind: 'container',
            components,
            python: pythonFor(options.python, kreuzPython),
            pythonpath: pythonpath(options.pythonpath),
            env: options.env,
            shutdown: options.shutdown,
            restart: options.restart,
          },
          ctx,
        );
        this.workers.push({ describe: `container worker ${id}`, start: () => group.start(), stop: () => group.stop() });
      }
    }
  }

  /** True once `shutdown` or `stop` was called. */
  get stoppingNow(): boolean {
    return this.stopping;
  }

  /** Starts every worker in order; rejects with why the first that fails did not start (those before it still run: call `stop`). */
  async start(): Promise<void> {
    for (const worker of this.workers) {
      if (this.stopping) throw new Error('the node is stopping');
      await worker.start();
    }
    if (this.workers.length) this.o.logger.info({}, `workers started: ${this.workers.map((w) => w.describe).join(', ')}`);
  }

  /** Nothing restarts from now; `nodeShutdown` runs (components still answer the calls in flight), then every process stops. */
  async shutdown(nodeShutdown: () => Promise<void>): Promise<void> {
    this.stopping = true;
    try {
      await nodeShutdown();
    } finally {
      await this.stop();
    }
  }

  /** Stops every process (SIGTERM, SIGKILL after the grace period); nothing restarts after this. */
  stop(): Promise<void> {
    this.stopping = true;
    this.stopped ??= Promise.all([...this.workers].reverse().map((w) => w.stop())).then(() => {});
    return this.stopped;
  }
}

function isDebug(logger: Logger): boolean {
  const probe = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof probe === 'function' && probe.call(logger, 'debug');
}
