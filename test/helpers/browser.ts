/**
 * A real browser for the dashboard tests: Debian's chromium (apt package
 * `chromium`; KREUZ_CHROMIUM names another binary), headless, driven with
 * puppeteer-core. The page is built first when its sources are newer than
 * dist/dashboard/ (web/dashboard/build.mjs). Missing chromium fails the
 * tests with how to install it: they do not skip.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildDashboard } from '../../web/dashboard/build.mjs';

export const CHROMIUM = process.env.KREUZ_CHROMIUM ?? '/usr/bin/chromium';

/** Builds dist/dashboard/ when it is older than web/dashboard/ (the type check is the types test's). */
export async function ensureDashboardBuilt(): Promise<void> {
  await buildDashboard({ ifStale: true, typecheck: false, log: () => {} });
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (as .ci/run does), or set KREUZ_CHROMIUM to a Chromium binary`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container: no sandbox; /dev/shm is often tiny there.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--mute-audio'],
    defaultViewport: { width: 1400, height: 1000 },
  });
}

/** What went wrong inside a page: uncaught errors, console errors, and Content-Security-Policy violations. */
export interface PageTroubles {
  errors: string[];
  violations: string[];
}

/** A new page that records its troubles (CSP violations are reported by the page itself, before any of its scripts run). */
export async function openPage(browser: Browser): Promise<{ page: Page; troubles: PageTroubles }> {
  const page = await browser.newPage();
  const troubles: PageTroubles = { errors: [], violations: [] };
  page.on('pageerror', (err) => troubles.errors.push(String((err as Error)?.message ?? err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') troubles.errors.push(msg.text());
  });
  await page.exposeFunction('__kreuzCspViolation', (text: string) => troubles.violations.push(text));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __kreuzCspViolation(t: string): void }).__kreuzCspViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { page, troubles };
}

/**
 * Where screenshots go: the directory in KREUZ_DASHBOARD_SCREENSHOTS (e.g. docs/screenshots, to
 * refresh the README's), else a temporary directory (a normal run leaves the committed ones alone).
 */
export function screenshotDir(): string {
  const dir = process.env.KREUZ_DASHBOARD_SCREENSHOTS;
  if (!dir) return mkdtempSync(join(tmpdir(), 'kreuz-dashboard-'));
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  return absolute;
}
