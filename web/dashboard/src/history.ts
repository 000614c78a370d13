/** The charts' samples: the last 5 minutes, one sample per refresh (2 s), oldest dropped first. */

export const WINDOW_MS = 5 * 60 * 1000;
/** A bound in samples too, whatever the clock does: 5 minutes at 2 s, with room for early events. */
const MAX_SAMPLES = 300;

/** One moment of the charts; a value the session's role may not read is undefined (drawn as a gap, not as 0). */
export interface Sample {
  time: number;
  callsPerS?: number;
  eventsPerS?: number;
  loopP50?: number;
  loopP99?: number;
}

export class History {
  private samples: Sample[] = [];

  add(sample: Sample): void {
    this.samples.push(sample);
    const oldest = sample.time - WINDOW_MS;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop].time < oldest) drop++;
    if (this.samples.length - drop > MAX_SAMPLES) drop = this.samples.length - MAX_SAMPLES;
    if (drop > 0) this.samples = this.samples.slice(drop);
  }

  clear(): void {
    this.samples = [];
  }

  get all(): readonly Sample[] {
    return this.samples;
  }
}
