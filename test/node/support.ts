/** Helpers for the node tests: Prometheus text parsing and bounded waits. */

/**
 * The samples of a Prometheus text exposition, keyed as written without
 * spaces: `name` or `name{a="x",b="y"}` with labels in the order given.
 * Checks the format as it goes: HELP/TYPE comments, one sample per line.
 */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // Prometheus reads NaN case-insensitively (prom-client writes "Nan").
    if (Number.isNaN(value) && m[3].toLowerCase() !== 'nan') throw new Error(`bad sample value in ${JSON.stringify(line)}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, value);
  }
  return samples;
}

/** The value of one sample; labels in the order prom-client writes them (as given). */
export function sample(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return samples.get(body ? `${name}{${body}}` : name);
}

/** Waits until `check` holds (polling every 10 ms), or fails naming `what` after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** ws://host:port/path -> http://host:port + path */
export function httpUrl(wsUrl: string, path: string): string {
  const u = new URL(wsUrl);
  return `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}${path}`;
}
