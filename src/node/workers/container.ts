/**
 * A `container` worker and the router's `components`: Python components, one
 * process each (component.ts), started one after another, as Crossbar starts
 * them, each once the one before it has started.
 *
 * What happens when a container's component ends (Crossbar's container
 * worker): with `options.shutdown` "shutdown-on-any-component-failed" (and it
 * failed), "shutdown-on-any-component-stopped", or
 * "shutdown-on-last-component-stopped" (and none is left), the container
 * stops its other components and ends; otherwise `options.restart`
 * "restart-always", or "restart-on-failed" when it failed, starts it again
 * (default "restart-never"). A container that ended stops the node too when
 * the node's shutdown triggers (controller.options.shutdown) have
 * "shutdown_on_worker_exit", Crossbar's default. Crossbar restarts a
 * component at once; Kreuz waits until a second has passed since its last
 * start, so a component that fails as it joins cannot spin.
 *
 * Router components are never restarted, as in Crossbar: one that ends is
 * logged, and the node runs on.
 */
import { delimiter } from 'node:path';
import type { Logger } from '../../core/logger.ts';
import type { Router } from '../../core/router.ts';
import type { ContainerComponentConfig, ContainerWorkerConfig, RouterComponentConfig } from '../../config/workers.ts';
import { ComponentProcess, type ComponentEnd, type RunnerConfig } from './component.ts';
import type { ProcessEnvConfig } from './env.ts';
import { processEnvironment } from './env.ts';
import { isNativeClass } from '../native-components/index.ts';
import { NativeComponentRunner } from './native.ts';
import { pythonProblem } from './python.ts';

const MIN_RESTART_INTERVAL_MS = 1000;

export interface ComponentsContext {
  cbdir: string;
  router: Router;
  logger: Logger;
  graceMs: number;
  loglevel: RunnerConfig['loglevel'];
  /** True once the node is stopping: nothing restarts. */
  holding(): boolean;
  /** A container ended: stop the node if its triggers say so. */
  containerEnded(id: string): void;
}

/** What one component slot has: its config, its id, its process when it runs. */
interface Slot {
  id: string;
  config: ContainerComponentConfig | RouterComponentConfig;
  process?: ComponentProcess | NativeComponentRunner;
  lastStart: number;
}

export interface ComponentGroupOptions {
  /** The worker's id. */
  id: string;
  /** "container" or "router". */
  kind: 'container' | 'router';
  components: Array<{ id: string; config: ContainerComponentConfig | RouterComponentConfig }>;
  python: string;
  pythonpath: readonly string[];
  env: ProcessEnvConfig | undefined;
  shutdown?: NonNullable<ContainerWorkerConfig['options']>['shutdown'];
  restart?: NonNullable<ContainerWorkerConfig['options']>['restart'];
}

export class ComponentGroup {
  private readonly slots: Slot[];
  private ended = false;

  constructor(
    private readonly o: ComponentGroupOptions,
    private readonly ctx: ComponentsContext,
  ) {
    this.slots = o.components.map((c) => ({ ...c, lastStart: 0 }));
  }

  /** Starts each component once the one before it has started; throws on the first that does not. */
  async start(): Promise<void> {
    if (this.slots.length === 0) return;
    // Classes Kreuz runs natively need no Python.
    const problem = this.slots.some((s) => !isNativeClass(s.config.classname)) ? pythonProblem(this.o.python) : undefined;
    if (problem) throw new Error(`${this.o.kind} worker ${this.o.id}: ${problem}`);
    for (const slot of this.slots) {
      if (this.ctx.holding()) throw new Error('the node is stopping');
      await this.startSlot(slot);
    }
  }

  /** Stops every component (SIGTERM, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    this.ended = true;
    await Promise.all(this.slots.map((s) => s.process?.stop()));
  }

  private async startSlot(slot: Slot): Promise<void> {
    const { cbdir, logger } = this.ctx;
    const config = slot.config;
    if (isNativeClass(config.classname)) {
      slot.lastStart = Date.now();
      const native = new NativeComponentRunner({
        worker: this.o.id,
        id: slot.id,
        classname: config.classname,
        realm: config.realm,
        extra: config.extra,
        router: this.ctx.router,
        authrole: (this.o.kind === 'router' && 'role' in config && config.role) || 'anonymous',
        logger,
      });
      return this.watch(slot, native);
    }
    const env = processEnvironment(this.o.env);
    // Crossbar puts the worker's pythonpath (relative to the node directory) before the rest.
    const pythonpath = [...this.o.pythonpath, ...(env.PYTHONPATH ? [env.PYTHONPATH] : [])];
    if (pythonpath.length) env.PYTHONPATH = pythonpath.join(delimiter);
    slot.lastStart = Date.now();
    const child = new ComponentProcess({
      worker: this.o.id,
      id: slot.id,
      python: this.o.python,
      env,
      runner: {
        id: slot.id,
        classname: config.classname,
        realm: config.realm,
        extra: config.extra,
        transport: 'transport' in config ? config.transport : null,
        cbdir,
        loglevel: this.ctx.loglevel,
      },
      ...(this.o.kind === 'router' && {
        router: { router: this.ctx.router, authrole: ('role' in config && config.role) || 'anonymous' },
      }),
      logger,
      graceMs: this.ctx.graceMs,
    });
    return this.watch(slot, child);
  }

  private async watch(slot: Slot, child: ComponentProcess | NativeComponentRunner): Promise<void> {
    slot.process = child;
    try {
      await child.started;
    } catch (err) {
      await child.stop();
      throw err;
    }
    void child.ended.then((end) => {
      if (slot.process === child) slot.process = undefined;
      this.onEnded(slot, end);
    });
  }

  private onEnded(slot: Slot, end: ComponentEnd): void {
    if (this.ended || this.ctx.holding()) return;
    const { logger } = this.ctx;
    const fields = { worker: this.o.id, component: slot.id };
    const what = `component ${slot.id} (${slot.config.classname}) of ${this.o.kind} worker ${this.o.id}`;
    if (end.failed) logger.error(fields, `${what} failed: ${end.why}`);
    else logger.info(fields, `${what} ended: ${end.why}`);
    if (this.o.kind === 'router') {
      logger.info(fields, `${what} is not restarted (Crossbar restarts no router component)`);
      return;
    }
    const shutdown = this.o.shutdown ?? 'shutdown-manual';
    const running = this.slots.filter((s) => s.process?.running).length;
    if (
      (end.failed && shutdown === 'shutdown-on-any-component-failed') ||
      shutdown === 'shutdown-on-any-component-stopped' ||
      (running === 0 && shutdown === 'shutdown-on-last-component-stopped')
    ) {
      logger.info({ worker: this.o.id }, `container worker ${this.o.id} ends (its "shutdown" is "${shutdown}")`);
      void this.stop().then(() => this.ctx.containerEnded(this.o.id));
      return;
    }
    const restart = this.o.restart ?? 'restart-never';
    if (restart === 'restart-always' || (restart === 'restart-on-failed' && end.failed)) {
      const wait = Math.max(0, slot.lastStart + MIN_RESTART_INTERVAL_MS - Date.now());
      logger.info(fields, `${what}: restarting it (its container's "restart" is "${restart}")`);
      setTimeout(() => {
        if (this.ended || this.ctx.holding()) return;
        this.startSlot(slot).catch((err: unknown) =>
          logger.error(
            fields,
            `${what} could not be restarted, and is not tried again: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
      }, wait);
    } else {
      logger.info(fields, `${what} is not restarted (its container's "restart" is "${restart}")`);
    }
  }
}
