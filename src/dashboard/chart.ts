import uPlot from 'uplot';
import { formatDateTime } from './format.js';
import { cssVar, darkQuery, withAlpha } from './theme.js';

/** One line of a {@link TimeChart}. */
export interface LineSpec {
  label: string;
  color: string;
  /** Fill under the line. Default false. */
  isFilled?: boolean;
}

/** Options of {@link TimeChart}. */
export interface TimeChartOptions {
  /** Formats y values for the axis and legend. */
  format: (v: number) => string;
  /** Plot height, px. Default 220. */
  heightPx?: number;
  /** A sparkline: no axes, legend or cursor. Default false. */
  isSparkline?: boolean;
  /** Lower bound of the y scale (0 for counts); undefined lets uPlot choose. */
  yMin?: number;
  /** Logarithmic y scale (latencies spanning ms to s). Default false. */
  isLog?: boolean;
  /** Formats y-axis tick labels; default `format`. */
  axisFormat?: (v: number) => string;
  /** uPlot plugins (e.g. the notable-event markers). Default none. */
  plugins?: uPlot.Plugin[];
}

/** x values (epoch ms) then one array per line; null is a gap. */
export type ChartData = [number[], ...(number | null)[][]];

/**
 * A uPlot time chart that follows its container's width and the OS colour scheme. Data keeps
 * nulls as nulls, so empty buckets show as gaps rather than as a line to zero.
 */
export class TimeChart {
  private plot: uPlot | null = null;
  private data: ChartData;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private lines: LineSpec[],
    private readonly options: TimeChartOptions,
  ) {
    this.data = [[], ...lines.map(() => [])];
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(container);
    darkQuery.addEventListener('change', () => this.rebuild());
  }

  /** Replaces lines (when types appear) and data. */
  setData(data: ChartData, lines?: LineSpec[]): void {
    this.data = data;
    const linesChanged = lines !== undefined && !sameLines(lines, this.lines);
    if (lines !== undefined) this.lines = lines;
    if (this.plot === null || linesChanged) this.rebuild();
    else {
      this.plot.setData(data as uPlot.AlignedData);
      if (!this.options.isSparkline && this.plot.cursor.idx == null) showLatest(this.plot);
    }
    this.container.dataset.points = String(this.pointCount);
  }

  /** Number of non-null y values drawn (tests and the `charts drawn` mark use it). */
  get pointCount(): number {
    let n = 0;
    for (let i = 1; i < this.data.length; i++) {
      for (const v of this.data[i] ?? []) if (v !== null) n++;
    }
    return n;
  }

  private width(): number {
    return Math.max(120, Math.floor(this.container.clientWidth));
  }

  private fit(): void {
    if (this.plot === null) return;
    const w = this.width();
    if (Math.abs(w - this.plot.width) >= 1) {
      this.plot.setSize({ width: w, height: this.options.heightPx ?? 220 });
    }
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    this.plot = new uPlot(this.buildOptions(), this.data as uPlot.AlignedData, this.container);
    if (!this.options.isSparkline) showLatest(this.plot);
  }

  private buildOptions(): uPlot.Options {
    const {
      format,
      axisFormat,
      isSparkline = false,
      heightPx = 220,
      yMin,
      isLog = false,
    } = this.options;
    const axisColor = cssVar('--muted');
    const gridColor = cssVar('--grid');
    const fmt = (_u: uPlot, v: number | null): string => (v === null ? '–' : format(v));
    const series: uPlot.Series[] = [
      { label: 'Time', value: (_u, v) => (v === null ? '' : formatDateTime(v).slice(0, 16)) },
      ...this.lines.map((l): uPlot.Series => ({
        label: l.label,
        stroke: l.color,
        width: isSparkline ? 1.5 : 2,
        fill: l.isFilled ? withAlpha(l.color, 0.14) : undefined,
        // A bucket with gaps on both sides has no line to draw: show it as a dot.
        points: isSparkline ? { show: false } : { show: true, size: 6, filter: isolatedPoints },
        spanGaps: false,
        value: fmt,
      })),
    ];
    const yRange: uPlot.Scale.Range = (_u, min, max) => {
      const lo = yMin ?? min;
      const hi = max > lo ? max : lo + 1;
      return [lo, hi + (hi - lo) * 0.08];
    };
    return {
      width: this.width(),
      height: heightPx,
      plugins: this.options.plugins ?? [],
      ms: 1,
      series,
      legend: { show: !isSparkline, live: true },
      cursor: isSparkline
        ? { show: false }
        : {
            drag: { x: false, y: false },
            points: { size: 6 },
            // Hovering one chart shows the same moment in every chart.
            sync: { key: 'cm-time' },
          },
      hooks: isSparkline
        ? {}
        : {
            // Away from the cursor the legend shows the newest values instead of dashes.
            setCursor: [(u) => (u.cursor.idx == null ? showLatest(u) : undefined)],
          },
      scales: { x: { time: true }, y: isLog ? { distr: 3, log: 10 } : { range: yRange } },
      axes: isSparkline
        ? [{ show: false }, { show: false }]
        : [
            {
              stroke: axisColor,
              grid: { stroke: gridColor, width: 1 },
              ticks: { stroke: gridColor, width: 1 },
              // Room for "10:30pm" labels without running into each other.
              space: 80,
            },
            {
              stroke: axisColor,
              grid: { stroke: gridColor, width: 1 },
              ticks: { stroke: gridColor, width: 1 },
              // On a log scale, ticks and grid lines at powers of ten only (uPlot's 1…9 × 10^n
              // splits crowd the axis).
              splits: isLog ? (_u, _i, min, max) => powersOfTen(min, max) : undefined,
              values: (_u, splits) => splits.map((v) => (axisFormat ?? format)(v)),
              // Wide enough for the longest label (uPlot's fixed default cuts "1.25 s" off).
              size: (_u, values) =>
                values == null || values.length === 0
                  ? 40
                  : 24 + 7.5 * Math.max(...values.map((v) => String(v).length)),
            },
          ],
      padding: isSparkline ? [2, 0, 2, 0] : [12, 18, 0, 0],
    };
  }
}

/** Shows the newest bucket that has a value in the legend. */
function showLatest(u: uPlot): void {
  let latest = -1;
  for (let s = 1; s < u.data.length; s++) {
    const ys = u.data[s] as (number | null | undefined)[];
    for (let i = ys.length - 1; i > latest; i--) {
      if (ys[i] != null) {
        latest = i;
        break;
      }
    }
  }
  if (latest >= 0) u.setLegend({ idx: latest }, false);
}

/** Indices of values with no non-null neighbour (they would be invisible as a line). */
function isolatedPoints(u: uPlot, seriesIdx: number): number[] | null {
  const ys = u.data[seriesIdx] as (number | null | undefined)[] | undefined;
  if (ys === undefined) return null;
  const out: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] == null) continue;
    if (ys[i - 1] == null && ys[i + 1] == null) out.push(i);
  }
  return out;
}

/** Powers of ten within [min, max] (at least one). */
function powersOfTen(min: number, max: number): number[] {
  const lo = Math.ceil(Math.log10(Math.max(min, 1e-6)) - 1e-9);
  const hi = Math.floor(Math.log10(Math.max(max, 1e-6)) + 1e-9);
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(10 ** e);
  return out.length > 0 ? out : [10 ** lo];
}

function sameLines(a: LineSpec[], b: LineSpec[]): boolean {
  return a.length === b.length && a.every((l, i) => l.label === b[i]?.label);
}
