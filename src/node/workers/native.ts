/**
 * A component whose class Kreuz runs natively (src/node/native-components/),
 * with ComponentProcess's shape so a ComponentGroup runs either. It joins
 * its realm in-process with LocalSession: a router component as its `role`,
 * as in Crossbar; a container component as "anonymous", which is what these
 * classes (which do not authenticate) get over this node's own anonymous
 * transport, the one their `transport` names in Crossbar's examples.
 */
import { randomUUID } from 'node:crypto';
import { LocalSession } from '../../core/local-session.ts';
import type { Logger } from '../../core/logger.ts';
import type { Router } from '../../core/router.ts';
import { NATIVE_COMPONENTS, type NativeComponent } from '../native-components/index.ts';
import type { ComponentEnd } from './component.ts';

export interface NativeOptions {
  worker: string;
  id: string;
  classname: string;
  realm: string;
  extra: unknown;
  router: Router;
  authrole: string;
  logger: Logger;
}

export class NativeComponentRunner {
  readonly started: Promise<void>;
  readonly ended: Promise<ComponentEnd>;
  private session: LocalSession | undefined;
  private component: NativeComponent | undefined;
  private stopping = false;
  private done = false;
  private endWith: (end: ComponentEnd) => void = () => {};

  constructor(private readonly o: NativeOptions) {
    this.ended = new Promise((resolve) => (this.endWith = resolve));
    this.started = this.start();
    this.started.catch(() => {});
  }

  get running(): boolean {
    return !this.done;
  }

  private async start(): Promise<void> {
    const { o } = this;
    const fields = { worker: o.worker, component: o.id };
    const cls = NATIVE_COMPONENTS.get(o.classname);
    try {
      if (!cls) throw new Error(`no native class ${o.classname}`);
      this.session = await LocalSession.join(o.router, o.realm, { authid: randomUUID(), authrole: o.authrole });
      this.session.onClose(() => this.finish({ failed: !this.stopping, why: this.stopping ? 'stopped' : 'its session ended' }));
      this.component = await cls.start({ session: this.session, extra: o.extra, logger: o.logger, fields });
    } catch (err) {
      const why = err instanceof Error ? err.message : String((err as { uri?: string }).uri ?? err);
      await this.stop();
      this.finish({ failed: true, why });
      throw new Error(`component ${o.id} of ${o.worker} (${o.classname}) did not start: ${why}`);
    }
    o.logger.info(
      { ...fields, authrole: o.authrole },
      `component ${o.id} (${o.classname}) joined realm "${o.realm}" (run natively by Kreuz)`,
    );
  }

  private finish(end: ComponentEnd): void {
    if (this.done) return;
    this.done = true;
    void this.component?.stop();
    this.endWith(end);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.component?.stop();
    await this.session?.close().catch(() => {});
    this.finish({ failed: false, why: 'stopped' });
  }
}
