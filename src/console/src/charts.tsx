import { useId } from 'react';

/** One line of a chart: y per x label (days). */
export interface Series { name: string; values: number[]; color: string }
/** A horizontal reference line (the 0.1 % and 0.3 % spam-rate limits). */
export interface Threshold { y: number; label: string; color: string }

const PALETTE = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#dc2626', '#0891b2', '#4b5563'];
/** A colour per series index. */
export const color = (i: number) => PALETTE[i % PALETTE.length];

const W = 560;
const H = 200;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * A small SVG line chart with a legend, threshold lines and a data table for screen readers.
 * `format` prints y values (e.g. as percentages).
 */
export function LineChart({ labels, series, thresholds = [], format = String, title, testid }: {
  labels: string[]; series: Series[]; thresholds?: Threshold[]; format?: (v: number) => string; title: string; testid?: string;
}) {
  const id = useId();
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values), ...thresholds.map((t) => t.y * 1.15)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i: number) => PAD.l + (labels.length <= 1 ? iw / 2 : (i * iw) / (labels.length - 1));
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const every = Math.max(1, Math.ceil(labels.length / 6));
  return (
    <figure className="chart" data-testid={testid}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`} data-series={series.length}>
        <title id={`${id}-t`}>{title}</title>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="#e5e7eb" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" fontSize="10" fill="#6b7280">{format(v)}</text>
          </g>
        ))}
        {labels.map((l, i) => (i % every === 0 || i === labels.length - 1) && (
          <text key={l + i} x={x(i)} y={H - 8} textAnchor="middle" fontSize="10" fill="#6b7280">{l.slice(5)}</text>
        ))}
        {thresholds.map((t) => (
          <g key={t.label} className="threshold">
            <line x1={PAD.l} x2={W - PAD.r} y1={y(t.y)} y2={y(t.y)} stroke={t.color} strokeDasharray="5 4" />
            <text x={W - PAD.r - 4} y={y(t.y) - 4} textAnchor="end" fontSize="10" fill={t.color}>{t.label}</text>
          </g>
        ))}
        {series.map((s) => (
          <g key={s.name}>
            <polyline fill="none" stroke={s.color} strokeWidth="2" points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />
            {s.values.map((v, i) => <circle key={i} cx={x(i)} cy={y(v)} r="2.5" fill={s.color}><title>{`${s.name} ${labels[i]}: ${format(v)}`}</title></circle>)}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map((s) => <span key={s.name}><i style={{ background: s.color }} />{s.name}</span>)}
      </figcaption>
      <div className="sr-only"><table>
        <caption>{title}</caption>
        <thead><tr><th>date</th>{series.map((s) => <th key={s.name}>{s.name}</th>)}</tr></thead>
        <tbody>{labels.map((l, i) => <tr key={l + i}><td>{l}</td>{series.map((s) => <td key={s.name}>{format(s.values[i] ?? 0)}</td>)}</tr>)}</tbody>
      </table></div>
    </figure>
  );
}

/** Horizontal bars with their values written out. */
export function BarChart({ bars, title, testid, format = String }: { bars: Array<{ label: string; value: number }>; title: string; testid?: string; format?: (v: number) => string }) {
  const id = useId();
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowH = 22;
  const h = bars.length * rowH + 4;
  return (
    <figure className="chart" data-testid={testid}>
      <svg viewBox={`0 0 ${W} ${h}`} role="img" aria-labelledby={`${id}-t`}>
        <title id={`${id}-t`}>{`${title}: ${bars.map((b) => `${b.label} ${format(b.value)}`).join(', ')}`}</title>
        {bars.map((b, i) => (
          <g key={b.label} transform={`translate(0 ${i * rowH + 2})`}>
            <text x={150} y={14} textAnchor="end" fontSize="11" fill="#374151">{b.label}</text>
            <rect x={158} y={3} height={14} width={Math.max(b.value ? 2 : 0, ((W - 220) * b.value) / max)} fill={color(i)} rx="2" />
            <text x={164 + ((W - 220) * b.value) / max} y={14} fontSize="11" fill="#111827">{format(b.value)}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** The last `n` days as YYYY-MM-DD (UTC), oldest first. */
export function lastDays(n: number, now = Date.now()): string[] {
  return Array.from({ length: n }, (_, i) => new Date(now - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}
