import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const KREUZ_VERSION: string = require('../package.json').version;
export const WS_VERSION: string = require('ws/package.json').version;
