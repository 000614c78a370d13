// Types of build.mjs, for the TypeScript that imports it (the browser tests' helper).
export const BUDGET: number;
export const OUT: string;
export const MANIFEST: string;
export function isStale(): boolean;
export function typeErrors(): string | undefined;
export function buildDashboard(options?: {
  ifStale?: boolean;
  typecheck?: boolean | 'report';
  log?: (line: string) => void;
}): Promise<{ built: boolean; gzipTotal: number }>;
export function readManifest(): {
  files: Array<{ name: string; immutable: boolean; bytes: number; gzip: number }>;
  gzipTotal: number;
  budget: number;
};
