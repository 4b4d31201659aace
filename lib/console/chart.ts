import { PROVIDERS, type ProviderName } from '../../functions/domain/events';
import { type Html, html } from './html';
import type { Counts } from './overview';

/**
 * A stacked bar chart (one bar per day, one colour per provider) as inline SVG rendered on the
 * server: no script, no library, nothing for the CSP to allow, and it is in the page before any
 * JavaScript runs. Colours are SVG presentation attributes, not inline CSS (which the CSP forbids).
 */

export const PROVIDER_COLOURS: Record<ProviderName, string> = {
  fastspring: '#3b6fd8',
  paddle: '#e0a030',
  hotmart: '#d9534f',
  selldone: '#3aa876',
  elements: '#8a5cc7',
  manual: '#6b7280',
};

const WIDTH = 560;
const HEIGHT = 170;
const LEFT = 32;
const BOTTOM = 22;
const TOP = 8;

export function barChart(title: string, days: string[], counts: Counts): Html {
  const totals = days.map((d) => PROVIDERS.reduce((n, p) => n + (counts[d]?.[p] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / days.length;
  const barWidth = Math.max(4, slot * 0.7);
  const bars = days.map((day, i) => {
    let y = HEIGHT - BOTTOM;
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const segments = PROVIDERS.flatMap((provider) => {
      const n = counts[day]?.[provider] ?? 0;
      if (n === 0) return [];
      const h = (n / max) * plotHeight;
      y -= h;
      return [
        html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${PROVIDER_COLOURS[provider]}"><title>${day} ${provider}: ${n}</title></rect>`,
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

export function legend(): Html {
  return html`<p class="legend">${PROVIDERS.map(
    (p) => html`<span class="key"><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${PROVIDER_COLOURS[p]}"/></svg> ${p}</span> `,
  )}</p>`;
}
