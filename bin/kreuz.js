#!/usr/bin/env node
// The `kreuz` command: runs the compiled CLI in this process (no child process, so signals
// reach the router directly). dist/ is built by `npm run build`, on install by `prepare`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('kreuz: not built (dist/cli/main.js is missing): run `npm run build` (or `npm install`) first');
  process.exit(1);
}
await import(main.href);
