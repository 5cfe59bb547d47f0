/**
 * The whole writeup as one PDF: headless Chromium prints the site's print.html (every page in
 * reading order, each notebook starting on a new sheet).
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { writeFileAtomic } from '../lib/io/atomic';
import type { Browser } from 'puppeteer-core';
import { launchChromium, type LaunchedBrowser } from './chromium';

export interface PdfOptions {
  /** The built site folder (with print.html). */
  siteDir: string;
  /** Where to write the PDF. */
  outFile: string;
  /** Chromium binary; default $CHROMIUM_PATH or /usr/bin/chromium. */
  chromiumPath?: string;
  format?: 'A4' | 'Letter';
  /** Milliseconds to wait for the page and its images. */
  timeoutMs?: number;
  /** A browser that is already running (left open); by default one is started and closed. */
  browser?: Browser;
}

/** Prints the site to one PDF and returns its path and size in bytes. */
export async function printSiteToPdf(options: PdfOptions): Promise<{ file: string; bytes: number }> {
  const printPage = path.resolve(options.siteDir, 'print.html');
  if (!fs.existsSync(printPage)) {
    throw new Error(`${printPage} does not exist: build the site first (npm run report).`);
  }
  const launched: LaunchedBrowser | null = options.browser ? null : await launchChromium(options.chromiumPath);
  const browser = options.browser ?? launched!.browser;
  const page = await browser.newPage();
  try {
    // Print in the light theme whatever the reader's system prefers.
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
    await page.goto(pathToFileURL(printPage).href, { waitUntil: 'load', timeout: options.timeoutMs ?? 120_000 });
    // A string, so that this Node-side file needs no DOM types.
    await page.evaluate('document.fonts.ready.then(() => true)');
    const pdf = await page.pdf({
      format: options.format ?? 'A4',
      printBackground: true,
      margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' },
      timeout: options.timeoutMs ?? 120_000,
    });
    const file = path.resolve(options.outFile);
    writeFileAtomic(file, pdf);
    return { file, bytes: pdf.length };
  } finally {
    await page.close();
    if (launched) await launched.close();
  }
}
