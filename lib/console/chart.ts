import type { ProviderName } from '../../functions/domain/events';
import { PROVIDER_NAMES } from '../../functions/providers/registry';
import { type Html, html } from './html';
import type { Counts } from './overview';

/**
 * A stacked bar chart (one bar per day, one colour per provider) as inline SVG rendered on the
 * server: no script, no library, nothing for the CSP to allow, and it is in the page before any
 * JavaScript runs. Colours are SVG presentation attributes, not inline CSS (which the CSP forbids).
 */

/** Distinguishable colours, one per provider in registry order (then again, should there be more). */
const PALETTE = ['#3b6fd8', '#e0a030', '#d9534f', '#3aa876', '#8a5cc7', '#17a2b8', '#e83e8c', '#6f42c1', '#fd7e14', '#20c997', '#6b7280', '#795548'];

export function providerColour(provider: ProviderName): string {
  const index = PROVIDER_NAMES.indexOf(provider);
  return PALETTE[(index < 0 ? PALETTE.length - 1 : index) % PALETTE.length]!;
}

/** The providers with anything in `counts`, in registry order. */
export function providersIn(...counts: Counts[]): ProviderName[] {
  const seen = new Set(counts.flatMap((c) => Object.values(c).flatMap((row) => Object.keys(row))));
  return PROVIDER_NAMES.filter((p) => seen.has(p));
}

const WIDTH = 560;
const HEIGHT = 170;
const LEFT = 32;
const BOTTOM = 22;
const TOP = 8;

export function barChart(title: string, days: string[], counts: Counts): Html {
  const providers = providersIn(counts);
  const totals = days.map((d) => providers.reduce((n, p) => n + (counts[d]?.[p] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / days.length;
  const barWidth = Math.max(4, slot * 0.7);
  const bars = days.map((day, i) => {
    let y = HEIGHT - BOTTOM;
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const segments = providers.flatMap((provider) => {
      const n = counts[day]?.[provider] ?? 0;
      if (n === 0) return [];
      const h = (n / max) * plotHeight;
      y -= h;
      return [
        html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${providerColour(provider)}"><title>${day} ${provider}: ${n}</title></rect>`,
      ];
    });
    const label = i % Math.ceil(days.length / 7) === 0 ? html`<text x="${(x + barWidth / 2).toFixed(1)}" y="${HEIGHT - 6}" text-anchor="middle" class="axis">${day.slice(5)}</text>` : '';
    return html`${segments}${label}`;
  });
  const sum = totals.reduce((a, b) => a + b, 0);
  return html`<figure class="chart">
<figcaption>${title} <span class="muted">(${sum} in ${days.length} days)</span></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${title} per day">
<line x1="${LEFT}" y1="${HEIGHT - BOTTOM}" x2="${WIDTH}" y2="${HEIGHT - BOTTOM}" stroke="#999"/>
<text x="${LEFT - 4}" y="${TOP + 10}" text-anchor="end" class="axis">${max}</text>
<text x="${LEFT - 4}" y="${HEIGHT - BOTTOM}" text-anchor="end" class="axis">0</text>
${bars}
</svg>
</figure>`;
}

export function legend(providers: ProviderName[]): Html {
  return html`<p class="legend">${providers.map(
    (p) => html`<span class="key"><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${providerColour(p)}"/></svg> ${p}</span> `,
  )}</p>`;
}
