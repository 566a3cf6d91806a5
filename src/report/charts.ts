/**
 * Charts for the HTML reports (shared by `antidote audit` and `antidote gate`): a vega-lite spec is compiled
 * to vega and rendered headless in Node with View.toSVG(), so each report is one self-contained file with
 * inline SVG, no script and no network. vega and vega-lite are loaded lazily (only when a report is written).
 * D1 (audit report): use chartSvg/barChart/histogramChart from here rather than a second copy.
 */
export type VegaLiteSpec = Record<string, unknown>;

const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: {
    font: 'system-ui, sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 11 },
    legend: { labelFontSize: 11 },
    view: { stroke: null },
  },
};

/** Render a vega-lite spec to an SVG string. Never throws: a chart that fails to render becomes a short note. */
export async function chartSvg(spec: VegaLiteSpec): Promise<string> {
  try {
    const vl = await import('vega-lite');
    const vega = await import('vega');
    const compiled = vl.compile({ ...BASE, ...spec } as never).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    return svg;
  } catch (err) {
    return `<p class="note">(chart not rendered: ${String((err as Error).message).replace(/[<>&]/g, '')})</p>`;
  }
}

/** Horizontal bars: one per category, optionally coloured by a series field. */
export function barChart(
  rows: Array<Record<string, unknown>>,
  opts: {
    x: string;
    y: string;
    color?: string;
    title?: string;
    width?: number;
    xTitle?: string;
    format?: string;
  },
): VegaLiteSpec {
  return {
    title: opts.title,
    width: opts.width ?? 420,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      y: { field: opts.y, type: 'nominal', sort: null, title: null, axis: { labelLimit: 380 } },
      x: {
        field: opts.x,
        type: 'quantitative',
        title: opts.xTitle ?? opts.x,
        axis: opts.format ? { format: opts.format } : undefined,
      },
      ...(opts.color
        ? { color: { field: opts.color, type: 'nominal', title: null }, yOffset: { field: opts.color } }
        : {}),
    },
  };
}

/** Overlaid histograms of pre-binned counts (bin start on x, count on y, one colour per series). */
export function histogramChart(
  rows: Array<{ bin: number; count: number; series: string }>,
  opts: { title?: string; xTitle?: string; width?: number; binWidth?: number },
): VegaLiteSpec {
  return {
    title: opts.title,
    width: opts.width ?? 420,
    height: 160,
    data: { values: rows.map((r) => ({ ...r, end: r.bin + (opts.binWidth ?? 0.1) })) },
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: { field: 'bin', type: 'quantitative', title: opts.xTitle ?? 'score', bin: { binned: true } },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', stack: null, title: 'rows' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Point estimates with interval whiskers (e.g. metric differences and their confidence intervals). */
export function intervalChart(
  rows: Array<{ name: string; value: number; low: number; high: number; flagged?: boolean }>,
  opts: { title?: string; xTitle?: string; width?: number },
): VegaLiteSpec {
  return {
    title: opts.title,
    width: opts.width ?? 420,
    data: { values: rows.map((r) => ({ ...r, flagged: r.flagged ? 'regression' : 'within noise' })) },
    layer: [
      { mark: { type: 'rule', color: '#888' }, encoding: { x: { datum: 0 } } },
      {
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: {
          y: { field: 'name', type: 'nominal', title: null, sort: null },
          x: { field: 'low', type: 'quantitative', title: opts.xTitle ?? 'difference' },
          x2: { field: 'high' },
          color: {
            field: 'flagged',
            type: 'nominal',
            title: null,
            scale: { domain: ['within noise', 'regression'], range: ['#4c78a8', '#d62728'] },
          },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          y: { field: 'name', type: 'nominal', sort: null },
          x: { field: 'value', type: 'quantitative' },
          color: { field: 'flagged', type: 'nominal' },
        },
      },
    ],
  };
}
