/**
 * A `guest` worker: any program, run as Crossbar runs it.
 *
 * - The executable is `executable` resolved against the working directory
 *   (`options.workdir`, relative to the node directory, default the node
 *   directory itself) if a file is there, else looked up on the PATH.
 * - Its environment: `options.env` (env.ts). Its stdin stays open, is
 *   closed ("close"), or gets a JSON value (then closed unless "close" is
 *   false); stdout and stderr are logged line by line at info with the
 *   worker's id ("log", the default), dropped, or closed.
 * - Crossbar does not restart a guest that exits, whatever its exit status:
 *   it logs how it ended. With `options.watch`, a change of a file in the
 *   watched directories (relative to the node directory, recursive) stops it
 *   (SIGTERM) and starts it again `watch.timeout` seconds (default 1) later,
 *   an ended guest included.
 */
import { watch, type FSWatcher } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../../core/logger.ts';
import type { GuestWorkerConfig } from '../../config/workers.ts';
import { describeExit, WorkerChild } from './child.ts';
import { processEnvironment, redactArguments } from './env.ts';
import { findExecutable } from './lookup.ts';

export interface GuestOptions {
  id: string;
  config: GuestWorkerConfig;
  /** The node directory (Crossbar's cbdir): what relative paths are relative to. */
  cbdir: string;
  logger: Logger;
  /** ms from SIGTERM to SIGKILL. */
  graceMs: number;
}

export class GuestWorker {
  private child: WorkerChild | undefined;
  private watchers: FSWatcher[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly workdir: string;
  private readonly fields: Record<string, string>;

  constructor(private readonly o: GuestOptions) {
    this.workdir = resolve(o.cbdir, o.config.options?.workdir ?? '.');
    this.fields = { worker: o.id };
  }

  /** Starts the process (Crossbar's "ready": it was spawned); throws when there is no such executable. */
  start(): void {
    const { config, logger } = this.o;
    const options = config.options ?? {};
    const executable = findExecutable(config.executable, this.workdir);
    if (!executable) {
      throw new Error(
        `guest worker ${this.o.id}: no executable "${config.executable}" in ${this.workdir} or on the PATH (set "executable" to a path, relative to options.workdir, or a command on the PATH)`,
      );
    }
    const args = config.arguments ?? [];
    const stdin = options.stdin;
    const child = new WorkerChild({
      fields: this.fields,
      command: executable,
      args,
      cwd: this.workdir,
      env: processEnvironment(options.env),
      stdin: stdin === 'close' ? 'ignore' : 'pipe',
      stdout: options.stdout,
      stderr: options.stderr,
      logger,
    });
    this.child = child;
    if (stdin !== undefined && stdin !== 'close') {
      child.process.stdin?.on('error', () => {}); // a guest that does not read its stdin
      child.process.stdin?.write(JSON.stringify(stdin.value));
      if (stdin.close !== false) child.process.stdin?.end();
    }
    logger.info({ ...this.fields, pid: child.pid }, `guest worker ${this.o.id} started: ${executable}`);
    logger.debug({ ...this.fields, args: redactArguments(args), cwd: this.workdir }, 'guest worker command line');
    void child.exited.then((exit) => {
      if (this.child !== child || child.stopping) return;
      this.child = undefined;
      if (exit.code === 0) logger.info(this.fields, `guest worker ${this.o.id} exited with success`);
      else
        logger.error(
          this.fields,
          `guest worker ${this.o.id} exited with error (${describeExit(exit)}); Crossbar does not restart it, nor does Kreuz`,
        );
    });
    if (this.watchers.length === 0) this.watch();
  }

  /** Stops the process (SIGTERM, SIGKILL after the grace period) and the watch; no restart after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.unwatch();
    await this.stopChild();
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exit = await child.stop(this.o.graceMs);
    if (this.child === child) this.child = undefined;
    this.o.logger.info(this.fields, `guest worker ${this.o.id} stopped (${describeExit(exit)})`);
  }

  private watch(): void {
    const watchConfig = this.o.config.options?.watch;
    if (!watchConfig) return;
    const onChange = (directory: string, file: string | null) => {
      if (this.stopped || this.restartTimer) return;
      const delay = (watchConfig.timeout ?? 1) * 1000;
      this.o.logger.info(this.fields, `guest worker ${this.o.id}: ${file ?? 'a file'} changed in ${directory}: restarting in ${delay} ms`);
      // Crossbar stops it at once and starts it again after the timeout.
      const stopping = this.stopChild();
      this.restartTimer = setTimeout(async () => {
        await stopping;
        this.restartTimer = undefined;
        if (this.stopped) return;
        try {
          this.start();
        } catch (err) {
          this.o.logger.error(this.fields, err instanceof Error ? err.message : String(err));
        }
      }, delay);
    };
    for (const dir of watchConfig.directories) {
      const directory = resolve(this.o.cbdir, dir);
      try {
        const watcher = watch(directory, { recursive: true }, (_event, file) => onChange(directory, file));
        watcher.on('error', (err) =>
          this.o.logger.warn({ ...this.fields, err: err.message }, `guest worker ${this.o.id}: watching ${directory} failed`),
        );
        this.watchers.push(watcher);
      } catch (err) {
        this.o.logger.warn(
          { ...this.fields, err: err instanceof Error ? err.message : String(err) },
          `guest worker ${this.o.id}: cannot watch ${directory}`,
        );
      }
    }
  }

  private unwatch(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }
}
