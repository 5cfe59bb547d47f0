/**
 * Headless Chromium through puppeteer-core, using the system's browser (Debian's chromium
 * package): puppeteer-core never downloads one. Used for the PDF and by the site's browser tests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The browser to use: $CHROMIUM_PATH, else /usr/bin/chromium; null when neither exists. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, DEFAULT_CHROMIUM].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Closes the browser and deletes its profile folder. */
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile and everything that phones home turned off. */
export async function launchChromium(executablePath = findChromium()): Promise<LaunchedBrowser> {
  if (!executablePath) {
    throw new Error(`Chromium not found at ${DEFAULT_CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'report-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        '--allow-file-access-from-files',
        `--user-data-dir=${profile}`,
      ],
    });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    browser,
    async close() {
      try {
        await browser.close();
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
