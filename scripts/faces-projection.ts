// Draws encodings (files written by `cnnc embed`) projected on their first two principal
// components, one panel per file, coloured by identity (the image's folder name), as an SVG
// rendered to PNG by headless Chromium. Used for docs/faces.md.
//   node bin/run-ts.js scripts/faces-projection.ts OUT.png TITLE=ENCODINGS.safetensors...
// Images in a folder named `db` (the one-shot references) are drawn as large outlined diamonds.

import { writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { chromium } from 'playwright-core';
import { readSafetensorsFile } from '../runtime/checkpoint.ts';

const [out, ...panels] = process.argv.slice(2);
if (!out || panels.length === 0) throw new Error('usage: faces-projection.ts OUT.png TITLE=ENCODINGS.safetensors...');

/** The top two principal directions of the rows (power iteration with deflation). */
function pca2(data: Float32Array, n: number, d: number): { points: Float64Array; explained: number[] } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += data[i * d + k] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b])) / n;
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  const dirs: Float64Array[] = [];
  const explained: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: d }, (_, k) => Math.sin(k + 1 + c));
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a] += cov[a * d + b] * v[b];
      lambda = Math.hypot(...w);
      v = w.map((x) => x / lambda);
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] -= lambda * v[a] * v[b];
    dirs.push(v);
    explained.push(lambda / trace);
  }
  const points = new Float64Array(n * 2);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 2; c++) for (let k = 0; k < d; k++) points[i * 2 + c] += (data[i * d + k] - mean[k]) * dirs[c][k];
  return { points, explained };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const SIZE = 420;
const PAD = 30;
const identitiesAll = new Set<string>();
const panelSvgs = panels.map((spec, p) => {
  const [title, file] = spec.split('=');
  const st = readSafetensorsFile(file);
  const t = st.tensors.get('encodings')!;
  const [n, d] = t.shape;
  const files = JSON.parse(st.metadata.files) as string[];
  const { points, explained } = pca2(t.data as Float32Array, n, d);
  const xs = Array.from({ length: n }, (_, i) => points[i * 2]);
  const ys = Array.from({ length: n }, (_, i) => points[i * 2 + 1]);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) || 1;
  const [cx, cy] = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2];
  const px = (x: number) => PAD + ((x - cx) / span + 0.5) * (SIZE - 2 * PAD - 20) + 10;
  const py = (y: number) => PAD + 30 + (0.5 - (y - cy) / span) * (SIZE - 2 * PAD - 20);
  const identity = (f: string) => basename(dirname(f));
  const ids = [...new Set(files.map(identity))].sort();
  ids.forEach((id) => identitiesAll.add(id));
  const shapes = files.map((f, i) => {
    const color = COLORS[[...identitiesAll].sort().indexOf(identity(f)) % COLORS.length];
    const [x, y] = [px(xs[i]), py(ys[i])];
    if (basename(dirname(dirname(f))) === 'db') return `<path d="M${x} ${y - 11}L${x + 11} ${y}L${x} ${y + 11}L${x - 11} ${y}Z" fill="${color}" stroke="black" stroke-width="2.5"/>`;
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}" fill-opacity="0.6"/>`;
  });
  // References on top of the clouds.
  shapes.sort((a, b) => Number(a.startsWith('<path')) - Number(b.startsWith('<path')));
  return `<g transform="translate(${p * SIZE} 0)"><rect x="4" y="4" width="${SIZE - 8}" height="${SIZE + 12}" fill="white" stroke="#ccc"/>
<text x="${SIZE / 2}" y="24" text-anchor="middle" font-size="15" font-family="sans-serif">${title}</text>
<text x="${SIZE / 2}" y="42" text-anchor="middle" font-size="12" font-family="sans-serif" fill="#555">first two principal components: ${(explained[0] * 100).toFixed(0)}% and ${(explained[1] * 100).toFixed(0)}% of the variance</text>
${shapes.join('\n')}</g>`;
});
const legend = [...identitiesAll]
  .sort()
  .map((id, i) => `<g transform="translate(${20 + i * 150} ${SIZE + 40})"><circle r="6" cx="6" cy="-5" fill="${COLORS[i % COLORS.length]}"/><text x="18" font-size="14" font-family="sans-serif">${id}</text></g>`)
  .join('');
const note = `<text x="${(panels.length * SIZE) / 2}" y="${SIZE + 40}" text-anchor="end" font-size="13" font-family="sans-serif" dx="${(panels.length * SIZE) / 2 - 20}">diamonds: the one reference image per class</text>`;
const width = panels.length * SIZE;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${SIZE + 55}" viewBox="0 0 ${width} ${SIZE + 55}"><rect width="100%" height="100%" fill="white"/>${panelSvgs.join('\n')}${legend}${note}</svg>`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width, height: SIZE + 55 } });
  await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
  writeFileSync(out, await page.screenshot({ clip: { x: 0, y: 0, width, height: SIZE + 55 } }));
} finally {
  await browser.close();
}
process.stdout.write(`wrote ${out}\n`);
