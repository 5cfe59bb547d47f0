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

/**
 * Classifier-free guidance's trade-off: for each scale gamma, the samples' Frechet distance to
 * real digits (left, with the real-digit floor as a dashed line) and the share judged as the
 * digit asked for (right).
 */
export function guidanceSweepSpec(rows: Array<{ guidance: number; frechet: number; accuracy: number }>, opts: { floor: number; title?: string }): VegaLiteSpec {
  if (rows.length === 0) throw new Error('guidanceSweepSpec: give at least one guidance scale');
  const values = [...rows]
    .sort((a, b) => a.guidance - b.guidance)
    .map((r) => ({ guidance: r.guidance, frechet: round(r.frechet), accuracy: round(r.accuracy) }));
  const x = { field: 'guidance', type: 'quantitative', title: 'guidance scale gamma', axis: { values: values.map((v) => v.guidance), format: 'd' } };
  const line = { type: 'line', point: true };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    description:
      `Two line charts against the guidance scale gamma (${values.map((v) => v.guidance).join(', ')}): the Frechet distance of the samples ` +
      `to real digits (${values.map((v) => v.frechet.toFixed(0)).join(', ')}; real digits ${opts.floor.toFixed(0)}) and the share judged ` +
      `as the digit asked for (${values.map((v) => Math.round(v.accuracy * 100) + '%').join(', ')}).`,
    data: { values },
    hconcat: [
      {
        width: 260,
        height: 200,
        layer: [
          { mark: line, encoding: { x, y: { field: 'frechet', type: 'quantitative', title: 'Frechet distance (lower is closer)', scale: { zero: true } } } },
          {
            data: { values: [{ floor: round(opts.floor) }] },
            mark: { type: 'rule', strokeDash: [4, 4] },
            encoding: { y: { field: 'floor', type: 'quantitative' } },
          },
          {
            data: { values: [{ floor: round(opts.floor), text: `real digits ${opts.floor.toFixed(0)}` }] },
            mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0 },
            encoding: { y: { field: 'floor', type: 'quantitative' }, text: { field: 'text' } },
          },
        ],
      },
      {
        width: 260,
        height: 200,
        mark: line,
        encoding: {
          x,
          y: { field: 'accuracy', type: 'quantitative', title: 'judged as the digit asked for', scale: { domain: [0, 1] }, axis: { format: '%' } },
        },
      },
    ],
  };
}

function round(x: number): number {
  return Number(x.toPrecision(5));
}
