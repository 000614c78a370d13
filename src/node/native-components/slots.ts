/**
 * A component's cap on HTTP requests in flight, with a bounded queue of
 * those waiting for a slot: what a burst of events or calls can make
 * Kreuz hold is max_concurrency running plus max_queue waiting, no more.
 * A job that finds the queue full is refused at once (`tryRun` says so),
 * so its caller drops the event or answers the call with an error.
 */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}

  /** Runs `job` now or once a slot frees; false (and `job` never runs) when the queue is full or the slots are closed. */
  tryRun(job: () => Promise<unknown>): boolean {
    if (this.closed) return false;
    const run = () => {
      this.running++;
      job()
        .catch(() => {}) // a job reports its own failures
        .finally(() => {
          this.running--;
          const next = this.waiting.shift();
          if (next && !this.closed) next();
        });
    };
    if (this.running < this.max) run();
    else if (this.waiting.length < this.maxQueue) this.waiting.push(run);
    else return false;
    return true;
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Nothing new starts; what waits is dropped (the jobs in flight are aborted by their owner). */
  close(): number {
    this.closed = true;
    return this.waiting.splice(0).length;
  }
}
