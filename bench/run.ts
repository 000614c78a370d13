/** `npm run bench`: runs the benchmarks and writes the table to bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { runUriMapBench } from './uri-map.bench.ts';

const sections = [runUriMapBench()];
const header = `# Kreuz benchmarks\n\n${new Date().toISOString()}, Node ${process.versions.node}, ${process.platform}/${process.arch}\n`;
const report = [header, ...sections].join('\n');
console.log(report);
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`bench-${new Date().toISOString().replace(/[:.]/g, '-')}.md`, dir);
writeFileSync(file, report);
console.log(`written to ${file.pathname}`);
