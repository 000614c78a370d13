/**
 * Transport-level keepalive: ping a client every `interval` ms; a client that
 * shows no sign of life (a pong, or any message) within `timeout` ms of a
 * ping is declared dead. This is how stale sessions get detected (a client
 * that vanished without closing its TCP connection keeps its registrations
 * otherwise). One timer per connection at a time; nothing on the message path
 * but a boolean store.
 */
export class Heartbeat {
  private alive = true;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * @param interval ms between pings (0: no heartbeat; `start` does nothing)
   * @param timeout ms a client has to answer a ping (the next ping goes out
   *   `interval` after the previous one, or once the answer is due if that is later)
   */
  constructor(
    private readonly interval: number,
    private readonly timeout: number,
    private readonly sendPing: () => void,
    private readonly onDead: () => void,
  ) {}

  start(): void {
    if (this.interval > 0 && !this.stopped) this.schedule(this.ping, this.interval);
  }

  /** Any sign of life from the client (a pong, or a message). */
  seen(): void {
    this.alive = true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private readonly ping = (): void => {
    this.alive = false;
    this.sendPing();
    this.schedule(this.check, this.timeout);
  };

  private readonly check = (): void => {
    if (!this.alive) {
      this.stop();
      this.onDead();
      return;
    }
    this.schedule(this.ping, Math.max(0, this.interval - this.timeout));
  };

  private schedule(fn: () => void, ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(fn, ms);
    this.timer.unref();
  }
}
