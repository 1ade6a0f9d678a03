// The playground page in Chromium (WebGPU on SwiftShader): typing an error shows its diagnostic,
// fixing it clears it, shapes show as inlay hints and on hover, the diagram follows an edit, Train
// trains the edited model in the page until the loss falls (on WebGPU, and on the wasm back end in
// a page without WebGPU), and the File menu opens the standard library. CNNC_SCREENSHOTS=1 writes
// the screenshots docs/ shows.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serveStatic, type Served } from '../../cli/static-server.ts';
import { buildPlayground } from '../../playground/build.ts';
import { CHROMIUM_PATH, CHROMIUM_WEBGPU_FLAGS, describeWithBrowser } from '../support/browser.ts';

const DOCS = resolve(import.meta.dirname, '../../docs');
const STEPS = 12;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface PageState {
  losses: number[];
  done: boolean;
  device?: string;
  error?: string;
}

describeWithBrowser('the playground page', () => {
  let site: string;
  let served: Served;
  let browser: Browser;
  let page: Page;
  const shot = async (name: string): Promise<void> => {
    if (process.env.CNNC_SCREENSHOTS === '1') await page.screenshot({ path: join(DOCS, name) });
  };

  beforeAll(async () => {
    site = mkdtempSync(join(tmpdir(), 'cnnc-playground-test-'));
    await buildPlayground(site);
    served = await serveStatic(site, 0, {}, { crossOriginIsolated: true }); // as `cnnc playground` serves it
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_WEBGPU_FLAGS] });
    page = await browser.newPage({ viewport: { width: 1300, height: 860 } });
    await page.goto(`${served.url}?steps=${STEPS}`);
    await page.waitForSelector('#diagram svg g.node');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    served?.server.close();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  it('shows each line\'s output shape as an inlay hint and describes the layer on hover', async () => {
    await expect.poll(() => page.locator('.cm-shape-hint').allTextContents()).toEqual(['28 x 28 x 8', '14 x 14 x 8', '14 x 14 x 16', '7 x 7 x 16', '784', '10']);
    await page.locator('.cm-line', { hasText: 'conv 16' }).hover({ position: { x: 40, y: 5 } });
    await expect.poll(() => page.locator('.cm-layer-hover').textContent()).toMatch(/conv_2.*shape: 14 x 14 x 8 → 14 x 14 x 16.*parameters: 1,168/s);
  });

  it('shows a typed error as its diagnostic, and clears it when fixed', async () => {
    await page.locator('.cm-line', { hasText: 'flatten' }).click({ position: { x: 30, y: 5 } });
    await page.keyboard.press('End');
    await page.keyboard.type('ed');
    await page.waitForSelector('.cm-lintRange-error');
    await expect.poll(() => page.locator('#problems').textContent()).toMatch(/^\d+ errors?$/);
    await page.locator('.cm-lintRange-error').first().hover();
    await expect.poll(() => page.locator('.cm-tooltip-lint').textContent()).toMatch(/unknown name 'flattened'.*did you mean 'flatten'/s);
    await shot('playground-error.png');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await expect.poll(() => page.locator('#problems').textContent()).toBe('no problems');
    await expect.poll(() => page.locator('.cm-lintRange-error').count()).toBe(0);
  });

  it('trains the edited model in the page on WebGPU and the loss falls', async () => {
    // An edit the training must pick up: a wider first convolution.
    await page.locator('.cm-line', { hasText: 'conv 8' }).click({ position: { x: 30, y: 5 } });
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type('conv 12, 3x3, pad same -> relu');
    await expect.poll(async () => [await page.locator('.cm-content').innerText(), await page.locator('.cm-shape-hint').first().textContent()]).toEqual([expect.stringContaining('conv 12'), '28 x 28 x 12']);
    // The diagram follows the edit: conv_1's box now says 12 channels and 120 parameters.
    await expect.poll(() => page.locator('#diagram g.node[data-node="conv_1"]').textContent()).toMatch(/28x28x12 · 120 params/);
    await page.click('#train');
    await page.waitForFunction(() => (globalThis as { playground?: PageState }).playground?.done === true, null, { timeout: 240_000 });
    const state = (await page.evaluate(() => (globalThis as { playground?: PageState }).playground)) as PageState;
    expect(state.error).toBeUndefined();
    expect(state.device).toMatch(/^webgpu/);
    expect(state.losses).toHaveLength(STEPS);
    expect(mean(state.losses.slice(-3))).toBeLessThan(mean(state.losses.slice(0, 3)) - 0.2);
    expect(await page.locator('table.confusion td').count()).toBe(100);
    expect(await page.locator('#chart polyline.loss-line').count()).toBe(1);
    await shot('playground.png');
  }, 300_000);

  it('falls back to the wasm back end in a browser without WebGPU, and the loss falls there too', async () => {
    const bare = await browser.newPage({ viewport: { width: 1300, height: 860 } });
    try {
      await bare.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
      await bare.goto(`${served.url}?steps=${STEPS}`);
      await bare.waitForSelector('#diagram svg g.node');
      await bare.click('#train');
      await bare.waitForFunction(() => (globalThis as { playground?: PageState }).playground?.done === true, null, { timeout: 120_000 });
      const state = (await bare.evaluate(() => (globalThis as { playground?: PageState }).playground)) as PageState;
      expect(state.error).toBeUndefined();
      expect(state.device).toMatch(/^wasm/);
      // Served as `cnnc playground` serves it: isolated, so the wasm back end may share memory between threads.
      expect(await bare.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(state.losses).toHaveLength(STEPS);
      expect(mean(state.losses.slice(-3))).toBeLessThan(mean(state.losses.slice(0, 3)) - 0.2);
      expect(await bare.locator('table.confusion td').count()).toBe(100);
    } finally {
      await bare.close();
    }
  }, 180_000);

  it('opens a standard-library file from the menu: its models in the Model menu, each drawn with blocks collapsed', async () => {
    await page.selectOption('#example', 'resnet.cnn');
    await expect.poll(() => page.locator('#model option').allTextContents()).toEqual(expect.arrayContaining(['ResNet18', 'ResNet50', 'ResNet152']));
    await expect.poll(() => page.locator('#problems').textContent()).toBe('no problems');
    await page.selectOption('#model', 'ResNet50');
    await expect.poll(() => page.locator('#diagram g.node[data-node="layer4_0"]').textContent()).toMatch(/block · 12 layers.*7x7x2048 · 6,049,792 params/);
  });
});
