/** A line chart of the last 5 minutes on a <canvas>, drawn by hand; the latest values are written beside it as text. */
import { useEffect, useRef } from 'preact/hooks';
import type { Sample } from './history.ts';
import { WINDOW_MS } from './history.ts';

export interface Series {
  label: string;
  /** A CSS color (the stylesheet's custom properties are read at draw time). */
  color: string;
  value(s: Sample): number | undefined;
}

interface Props {
  id: string;
  title: string;
  samples: readonly Sample[];
  series: Series[];
  format(v: number): string;
}

const HEIGHT = 120;

export function Chart({ id, title, samples, series, format }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) draw(canvas.current, samples, series, format);
  });
  const last = samples[samples.length - 1];
  const latest = (s: Series) => {
    const v = last && s.value(last);
    return v === undefined ? '–' : format(v);
  };
  const summary = series.map((s) => `${s.label} ${latest(s)}`).join(', ');
  const unreadable = last !== undefined && series.every((s) => s.value(last) === undefined);
  return (
    <figure class="chart" id={id} data-samples={samples.length}>
      <figcaption>
        <span class="chart-title">{title}</span>
        {series.map((s) => (
          <span class="legend" key={s.label}>
            <i class="swatch" data-color={s.color} />
            {s.label} <b data-latest={s.label}>{latest(s)}</b>
          </span>
        ))}
      </figcaption>
      {unreadable && <p class="chart-empty refused">not permitted for your role</p>}
      <canvas ref={canvas} height={HEIGHT} role="img" aria-label={`${title} over the last 5 minutes: ${summary}`} />
    </figure>
  );
}

function cssColor(el: HTMLElement, name: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || '#888';
}

function draw(canvas: HTMLCanvasElement, samples: readonly Sample[], series: Series[], format: (v: number) => string): void {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(200, canvas.clientWidth);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(HEIGHT * ratio);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, HEIGHT);

  const left = 8;
  const right = width - 8;
  const top = 16;
  const bottom = HEIGHT - 16;
  const end = samples.length ? samples[samples.length - 1].time : Date.now();
  const start = end - WINDOW_MS;
  let max = 0;
  for (const s of samples) for (const line of series) max = Math.max(max, line.value(s) ?? 0);
  const ceiling = niceCeiling(max);
  const x = (t: number) => left + ((t - start) / WINDOW_MS) * (right - left);
  const y = (v: number) => bottom - (Math.min(v, ceiling) / ceiling) * (bottom - top);

  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = ctx.strokeStyle = cssColor(canvas, '--grid');
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const gy = Math.round(top + (i * (bottom - top)) / 2) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, gy);
    ctx.lineTo(right, gy);
    ctx.stroke();
  }
  ctx.fillStyle = cssColor(canvas, '--muted');
  ctx.textBaseline = 'bottom';
  ctx.fillText(format(ceiling), left, top - 2);
  ctx.textBaseline = 'top';
  ctx.fillText('−5 min', left, bottom + 3);
  const nowLabel = 'now';
  ctx.fillText(nowLabel, right - ctx.measureText(nowLabel).width, bottom + 3);

  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  for (const line of series) {
    ctx.strokeStyle = ctx.fillStyle = cssColor(canvas, line.color);
    ctx.beginPath();
    // A sample without the value (not readable then) breaks the line.
    let drawing = false;
    for (const s of samples) {
      const v = line.value(s);
      if (v === undefined) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(s.time), y(v));
      else ctx.moveTo(x(s.time), y(v));
      drawing = true;
    }
    ctx.stroke();
    // The latest value as a dot: a line of one sample is none.
    const v = samples.length ? line.value(samples[samples.length - 1]) : undefined;
    if (v !== undefined) {
      ctx.beginPath();
      ctx.arc(x(end), y(v), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** 1, 2 or 5 times a power of ten, at least `v` (and at least 1). */
export function niceCeiling(v: number): number {
  if (!(v > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * power >= v) return m * power;
  return 10 * power;
}
