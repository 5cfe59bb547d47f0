/**
 * Vega-lite specifications (plain JSON data) for the writeup's charts. Jupyter renders them
 * natively (MIME application/vnd.vegalite.v5+json); the report builder renders them to SVG.
 * Each has a `description`: Vega writes it into the SVG for screen readers, and showChart uses
 * it as the chart's alt text.
 */

export interface CurvePoint {
  step: number;
  loss: number;
}

export type VegaLiteSpec = Record<string, unknown>;

/**
 * A training-loss curve: the loss of every logged step (thin) and its moving average over
 * `smooth` steps (thick), log-scaled y like the original's plots.
 */
export function lossCurveSpec(
  series: Array<{ name: string; points: CurvePoint[] }>,
  opts: { title?: string; smooth?: number; logScale?: boolean; width?: number; height?: number; yTitle?: string } = {},
): VegaLiteSpec {
  const smooth = opts.smooth ?? 20;
  const values: Array<{ step: number; loss: number; series: string; kind: string }> = [];
  for (const s of series) {
    let sum = 0;
    const window: number[] = [];
    for (const p of s.points) {
      values.push({ step: p.step, loss: round(p.loss), series: s.name, kind: 'step' });
      window.push(p.loss);
      sum += p.loss;
      if (window.length > smooth) sum -= window.shift()!;
      if (window.length === smooth || p === s.points[s.points.length - 1]) {
        values.push({ step: p.step, loss: round(sum / window.length), series: s.name, kind: `mean of ${smooth}` });
      }
    }
  }
  const y = { field: 'loss', type: 'quantitative', title: opts.yTitle ?? 'loss (MSE)', scale: { type: opts.logScale === false ? 'linear' : 'log' } };
  const x = { field: 'step', type: 'quantitative', title: 'optimiser step' };
  const names = series.map((s) => s.name).join(', ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    description:
      `Line chart of the training loss (${names}) against the optimiser step, ${opts.logScale === false ? 'linear' : 'log'} scale: ` +
      `each step as a thin line, the mean of ${smooth} steps as a thick one.`,
    width: opts.width ?? 520,
    height: opts.height ?? 260,
    data: { values },
    layer: [
      {
        transform: [{ filter: "datum.kind === 'step'" }],
        mark: { type: 'line', strokeWidth: 0.6, opacity: 0.35 },
        encoding: { x, y, color: { field: 'series', type: 'nominal', title: null } },
      },
      {
        transform: [{ filter: "datum.kind !== 'step'" }],
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x, y, color: { field: 'series', type: 'nominal', title: null } },
      },
    ],
  };
}

/** A bar chart of accuracies per category (e.g. the judge's per-digit accuracy). */
export function accuracyBarsSpec(labels: string[], accuracy: number[], opts: { title?: string } = {}): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    description: `Bar chart of the share per category, from 0 to 100%, for ${labels.join(', ')}.`,
    width: 420,
    height: 200,
    data: { values: labels.map((label, i) => ({ label, accuracy: round(accuracy[i]) })) },
    mark: 'bar',
    encoding: {
      x: { field: 'label', type: 'nominal', sort: null, title: null },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } },
    },
  };
}

/**
 * Horizontal bars of Frechet distances to the real digits (lower is closer), one per set of
 * images: real held-out digits (the floor) and each model's samples, each labelled with its value.
 */
export function frechetBarsSpec(rows: Array<{ label: string; frechet: number }>, opts: { title?: string } = {}): VegaLiteSpec {
  const values = rows.map((r) => ({ label: r.label, frechet: round(r.frechet), text: r.frechet.toFixed(0) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    description: `Bar chart of the Frechet distance to the training digits (lower is closer) for ${rows.map((r) => r.label).join(', ')}.`,
    width: 420,
    height: 28 * rows.length,
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 240 } },
      x: { field: 'frechet', type: 'quantitative', title: "Frechet distance in the judge's features (lower is closer to real digits)" },
    },
    layer: [{ mark: 'bar' }, { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { text: { field: 'text' } } }],
  };
}

function round(x: number): number {
  return Number(x.toPrecision(5));
}
