// The live training chart (loss, and held-out accuracy on its own axis) and the confusion matrix,
// drawn as plain SVG and HTML.

const W = 460;
const H = 180;
const PAD = 34;

export interface Series {
  readonly losses: number[];
  /** [step, accuracy] pairs. */
  readonly accuracies: [number, number][];
}

function polyline(points: readonly [number, number][], color: string, cls: string): string {
  return `<polyline class="${cls}" fill="none" stroke="${color}" stroke-width="1.8" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
}

export function chartSvg(s: Series, totalSteps: number): string {
  const maxLoss = Math.max(0.5, ...s.losses);
  const x = (step: number) => PAD + ((step - 1) / Math.max(1, totalSteps - 1)) * (W - 2 * PAD);
  const yLoss = (l: number) => H - PAD + -(l / maxLoss) * (H - 2 * PAD);
  const yAcc = (a: number) => H - PAD - a * (H - 2 * PAD);
  const loss = s.losses.map((l, i): [number, number] => [x(i + 1), yLoss(l)]);
  const acc = s.accuracies.map(([step, a]): [number, number] => [x(step), yAcc(a)]);
  const last = s.losses.at(-1);
  const lastAcc = s.accuracies.at(-1)?.[1];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#999"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#999"/><line x1="${W - PAD}" y1="${PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#999"/>`,
    `<text x="${PAD - 4}" y="${PAD}" text-anchor="end">${maxLoss.toFixed(1)}</text><text x="${PAD - 4}" y="${H - PAD}" text-anchor="end">0</text>`,
    `<text x="${W - PAD + 4}" y="${PAD}">100%</text><text x="${W - PAD + 4}" y="${H - PAD}">0%</text>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">step (of ${totalSteps})</text>`,
    polyline(loss, '#c0453b', 'loss-line'),
    polyline(acc, '#2f7d32', 'accuracy-line'),
    ...acc.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="#2f7d32"/>`),
    `<text x="${PAD + 6}" y="${PAD - 8}" fill="#c0453b">loss${last === undefined ? '' : ` ${last.toFixed(3)}`}</text>`,
    `<text x="${PAD + 120}" y="${PAD - 8}" fill="#2f7d32">held-out accuracy${lastAcc === undefined ? '' : ` ${(lastAcc * 100).toFixed(1)}%`}</text>`,
    '</svg>',
  ].join('');
}

export function confusionHtml(confusion: readonly (readonly number[])[], classes: readonly string[]): string {
  const max = Math.max(1, ...confusion.flat());
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  const right = confusion.reduce((s, row, i) => s + (row[i] ?? 0), 0);
  const head = `<tr><th>truth \\ predicted</th>${classes.map((c) => `<th title="${c}">${c.slice(0, 5)}</th>`).join('')}</tr>`;
  const rows = confusion.map((row, i) => `<tr><th>${classes[i]}</th>${row.map((n) => `<td style="background: rgba(47, 125, 50, ${(n / max).toFixed(2)})">${n}</td>`).join('')}</tr>`);
  return `<p>Confusion matrix on ${total} held-out images: ${((100 * right) / Math.max(1, total)).toFixed(1)}% right.</p><table class="confusion">${head}${rows.join('')}</table>`;
}
