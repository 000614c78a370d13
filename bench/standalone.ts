/**
 * What a bench part run alone (`--only payload`, `--only cluster`) shares:
 * the report's header (machine, load average, what was measured), its end
 * line, and where it is written (bench/results/<kind>-<timestamp>.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const loadLine = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export interface StandaloneReport {
  /** A progress line on stderr, with the seconds since the start. */
  log(line: string): void;
  /** Prints the report (header, `body`) and writes it to bench/results/<kind>-<timestamp>.md. */
  finish(body: string): void;
}

/** `kind` names the results file; `label` the progress lines (default: the kind). */
export function standaloneReport(kind: string, title: string, sourceLines: string[], label = kind): StandaloneReport {
  const started = performance.now();
  const date = new Date();
  const header = [
    `# ${title}`,
    '',
    `${date.toISOString()} · Node ${process.versions.node} · ${process.platform}/${process.arch} · ${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    `Load average at start: ${loadLine()} (figures from a busy machine are only indicative)`,
    ...sourceLines,
  ];
  return {
    log: (line) => console.error(`[${label} ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`),
    finish(body) {
      const report = [
        ...header,
        `Load average at end: ${loadLine()} · run time ${((performance.now() - started) / 1000).toFixed(0)} s`,
        '',
        body,
      ].join('\n');
      console.log(report);
      const dir = new URL('./results/', import.meta.url);
      mkdirSync(dir, { recursive: true });
      const file = new URL(`${kind}-${date.toISOString().replace(/[:.]/g, '-')}.md`, dir);
      writeFileSync(file, report);
      console.log(`written to ${file.pathname}`);
    },
  };
}
