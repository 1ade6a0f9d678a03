// SVG to PNG through headless Chromium (playwright-core drives the system's browser; nothing is
// downloaded). The browser is found at CNNC_CHROMIUM or the usual Debian/Ubuntu paths.

import { existsSync } from 'node:fs';
import { UsageError } from './io.ts';
import { UserError } from '../grammar/user-error.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export class NoBrowserError extends UserError {
  override readonly name = 'NoBrowserError';
}

export function findChromium(): string {
  const named = process.env.CNNC_CHROMIUM;
  if (named !== undefined) {
    if (!existsSync(named)) throw new NoBrowserError(`CNNC_CHROMIUM names ${named}, which does not exist`);
    return named;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) throw new NoBrowserError(`PNG output needs Chromium (looked in ${CANDIDATES.join(', ')}; set CNNC_CHROMIUM), or write .svg`);
  return found;
}

/** The SVG at its own size, device scale 2 for crisp text. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const size = /<svg[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"/.exec(svg);
  if (!size) throw new UsageError('the diagram has no width and height');
  const [width, height] = [Number(size[1]), Number(size[2])];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: findChromium(), args: ['--headless=new', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    return await page.locator('svg').first().screenshot({ type: 'png' });
  } finally {
    await browser.close();
  }
}
