/**
 * What a native component class is: the `extra` it takes (extra-schemas.ts)
 * and how it starts on a LocalSession already joined to its realm. The
 * session is the component's only way into the router, so it is
 * authorized exactly as its role.
 */
import type { LocalSession } from '../../core/local-session.ts';
import type { Logger } from '../../core/logger.ts';

export interface NativeContext {
  session: LocalSession;
  /** Already checked against the class's schema. */
  extra: unknown;
  logger: Logger;
  /** Log fields naming the component: worker, component. */
  fields: Record<string, string>;
}

export interface NativeComponent {
  /** Aborts what is in flight, drops what waits; the session is closed by its owner. */
  stop(): Promise<void>;
}

export interface NativeComponentClass {
  start(ctx: NativeContext): Promise<NativeComponent>;
}

/** A warning at most every `everyMs` per key, with how many were held back: a failing target must not flood the log. */
export class WarnThrottle {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly everyMs = 10_000,
  ) {}

  warn(key: string, message: string, more: Record<string, unknown> = {}): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.everyMs) {
      seen.held++;
      return;
    }
    const held = seen?.held ?? 0;
    this.last.set(key, { at: now, held: 0 });
    this.logger.warn(
      { ...this.fields, ...more, ...(held > 0 && { suppressed: held }) },
      held > 0 ? `${message} (and ${held} more like it)` : message,
    );
  }
}
