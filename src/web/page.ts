// The "Try it" page: each demo is a form, a drawing surface where it needs one, a live view of
// the image being denoised and the results. All computing happens in a Web Worker (worker.ts).
import type { DemoJob, DemoResult } from '../writeup/demo/jobs';
import type { Pixels } from '../lib/images/pixels';
import { DEMO_PANELS, type BackendName, type DemoPanel, type FromWorker, type ToWorker } from './protocol';

function demoPanel(id: string): DemoPanel {
  const panel = DEMO_PANELS.find((p) => p.id === id);
  if (!panel) throw new Error(`No demo panel "${id}" in DEMO_PANELS`);
  return panel;
}

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

type Attrs = Record<string, string | number | boolean | undefined>;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) node.append(c);
  return node;
}

let uid = 0;
/** A labelled control; returns the wrapper and the control. */
function field<T extends HTMLInputElement | HTMLSelectElement>(label: string, control: T, output?: HTMLOutputElement): { row: HTMLElement; control: T } {
  control.id ||= `demo-field-${++uid}`;
  const row = el('div', { class: 'demo-field' }, el('label', { for: control.id }, label), control);
  if (output) row.append(output);
  return { row, control };
}

function slider(
  label: string,
  min: number,
  max: number,
  step: number,
  value: number,
  format: (v: number) => string = String,
): { row: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { type: 'range', min, max, step, value });
  const out = el('output', {}, format(value));
  input.addEventListener('input', () => (out.textContent = format(Number(input.value))));
  const { row } = field(label, input, out);
  return { row, input };
}

/** The longest prompt a demo takes (the model's captions are a few words; it reads at most 22 tokens). */
const MAX_PROMPT_CHARS = 200;

function textInput(label: string, value: string): { row: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { type: 'text', value, spellcheck: 'false', autocomplete: 'off', maxlength: MAX_PROMPT_CHARS });
  const { row } = field(label, input);
  return { row, input };
}

function numberInput(label: string, value: number, min: number, max: number): { row: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { type: 'number', value, min, max, step: 1, inputmode: 'numeric' });
  const { row } = field(label, input);
  return { row, input };
}

function select(label: string, options: Array<[string, string]>, value: string): { row: HTMLElement; input: HTMLSelectElement } {
  const input = el('select');
  for (const [v, text] of options) input.append(el('option', { value: v, selected: v === value }, text));
  const { row } = field(label, input);
  return { row, input };
}

/** Draws [0, 1] pixels into a canvas of their own size (CSS scales it up, pixelated). */
function drawPixels(canvas: HTMLCanvasElement, im: Pixels): void {
  canvas.width = im.width;
  canvas.height = im.height;
  // Results are read back (saved, compared in tests): keep them in CPU memory.
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const data = ctx.createImageData(im.width, im.height);
  for (let i = 0; i < im.width * im.height; i++) {
    for (let c = 0; c < 3; c++) data.data[4 * i + c] = Math.round(255 * im.data[i * im.channels + (im.channels === 1 ? 0 : c)]);
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
}

/** A canvas's pixels, square-cropped and resized to size x size, as [0, 1] RGB or gray. */
function canvasPixels(source: HTMLCanvasElement, size: number, channels: 1 | 3): Pixels {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const side = Math.min(source.width, source.height);
  ctx.drawImage(source, (source.width - side) / 2, (source.height - side) / 2, side, side, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const data = new Float32Array(size * size * channels);
  for (let i = 0; i < size * size; i++) {
    if (channels === 1) data[i] = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / (3 * 255);
    else for (let k = 0; k < 3; k++) data[3 * i + k] = rgba[4 * i + k] / 255;
  }
  return { height: size, width: size, channels, data };
}

// ---------------------------------------------------------------------------------------------
// The worker

interface RunHandlers {
  onProgress(done: number, total: number, frame?: Pixels): void;
  onLoading(model: string, bytes: number): void;
}

/** One Web Worker; cancel() terminates it and the next run starts a fresh one. */
class DemoWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<
    number,
    { resolve(r: { result: DemoResult; ms: { load: number; compute: number } }): void; reject(e: Error): void; handlers: RunHandlers }
  >();
  backendLine = '';

  constructor(
    private readonly backend: BackendName,
    private readonly onBackend: (line: string) => void,
    /** Told of a failure when no run is waiting to show it. */
    private readonly onIdleFailure: (message: string) => void,
  ) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker('demo/worker.js');
    let started = false;
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      started = true;
      this.receive(event.data);
    };
    worker.onmessageerror = () => this.stopped('a message from it could not be read');
    worker.onerror = (event) => {
      event.preventDefault();
      // A script that never ran (a 404, a syntax error) gives an error event with no message.
      if (!started && !event.message) {
        this.failAll(
          new Error(
            'The demo worker could not start: demo/worker.js did not load. Reload the page; if this happens again, the site is incomplete: rebuild it with `npm run report`.',
          ),
        );
      } else {
        this.stopped((event.message || 'an unknown error').replace(/^Uncaught (\w*Error: )?/, ''));
      }
    };
    worker.postMessage({ type: 'init', backend: this.backend } satisfies ToWorker);
    this.worker = worker;
    return worker;
  }

  /** An error the worker did not tie to a job: its state is unknown, so it is replaced. */
  private stopped(reason: string): void {
    this.failAll(new Error(`The demo worker stopped: ${reason}. Run it again; the next run starts a fresh worker.`));
  }

  private receive(msg: FromWorker): void {
    if (msg.type === 'ready') {
      this.backendLine = `${msg.backend}${msg.backend === 'wasm' ? (msg.simd ? ' (SIMD)' : ' (no SIMD)') : ''}`;
      this.onBackend(this.backendLine);
      return;
    }
    if (msg.type === 'error' && msg.id === null) {
      // Failing to start says what to do itself; anything else is a failure outside any job.
      if (msg.starting) this.failAll(new Error(msg.message));
      else this.stopped(msg.message);
      return;
    }
    const job = msg.id === null ? undefined : this.pending.get(msg.id);
    if (!job) return;
    if (msg.type === 'loading') job.handlers.onLoading(msg.model, msg.bytes);
    else if (msg.type === 'progress') job.handlers.onProgress(msg.done, msg.total, msg.frame);
    else if (msg.type === 'result') {
      this.pending.delete(msg.id);
      job.resolve({ result: msg.result, ms: msg.ms });
    } else if (msg.id !== null) {
      this.pending.delete(msg.id);
      job.reject(new Error(msg.message));
    }
  }

  private failAll(error: Error): void {
    if (this.pending.size === 0) this.onIdleFailure(error.message);
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
    this.worker?.terminate();
    this.worker = null;
  }

  run(job: DemoJob, handlers: RunHandlers): Promise<{ result: DemoResult; ms: { load: number; compute: number } }> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, handlers });
      worker.postMessage({ type: 'run', id, job } satisfies ToWorker);
    });
  }

  cancel(): void {
    if (this.pending.size === 0) return;
    this.failAll(new Error('Cancelled.'));
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing surfaces

/** A canvas to draw on with the pointer (mouse, pen or touch), at `resolution` pixels. */
class Sketchpad {
  readonly canvas: HTMLCanvasElement;
  colour: string;
  brush: number;
  private drawing = false;
  private last: [number, number] | null = null;
  onChange: () => void = () => {};

  constructor(
    resolution: number,
    readonly background: string,
    colour: string,
    brush: number,
    label: string,
  ) {
    this.canvas = el('canvas', { width: resolution, height: resolution, class: 'demo-pad', role: 'img', 'aria-label': label });
    this.colour = colour;
    this.brush = brush;
    // The pad is read back at every run: keep it in CPU memory (the first getContext decides).
    this.canvas.getContext('2d', { willReadFrequently: true });
    this.clear();
    this.canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      this.canvas.setPointerCapture(e.pointerId);
      this.last = this.point(e);
      this.stroke(this.last, this.last);
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = this.point(e);
      this.stroke(this.last ?? p, p);
      this.last = p;
    });
    const end = () => {
      if (this.drawing) this.onChange();
      this.drawing = false;
      this.last = null;
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
  }

  private point(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  private stroke(a: [number, number], b: [number, number]): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.strokeStyle = this.colour;
    ctx.lineWidth = this.brush;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0] + 0.01, b[1]);
    ctx.stroke();
  }

  /** Draws polylines given in [0, 1] coordinates (what a pointer would draw). */
  strokes(lines: Array<Array<[number, number]>>): void {
    const size = this.canvas.width;
    for (const line of lines) {
      for (let i = 1; i < line.length; i++) {
        this.stroke([line[i - 1][0] * size, line[i - 1][1] * size], [line[i][0] * size, line[i][1] * size]);
      }
    }
    this.onChange();
  }

  /** Fills a rectangle given in [0, 1] coordinates with the brush colour (a mask preset). */
  fillRect(x0: number, y0: number, x1: number, y1: number): void {
    const size = this.canvas.width;
    const ctx = this.canvas.getContext('2d')!;
    ctx.fillStyle = this.colour;
    ctx.fillRect(x0 * size, y0 * size, (x1 - x0) * size, (y1 - y0) * size);
    this.onChange();
  }

  clear(): void {
    const ctx = this.canvas.getContext('2d')!;
    if (this.background === 'transparent') ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    else {
      ctx.fillStyle = this.background;
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    }
    this.onChange();
  }

  /** Draws an image (square-cropped) over the whole pad. */
  drawImage(image: CanvasImageSource & { width: number; height: number }): void {
    const ctx = this.canvas.getContext('2d')!;
    const side = Math.min(image.width, image.height);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(image, (image.width - side) / 2, (image.height - side) / 2, side, side, 0, 0, this.canvas.width, this.canvas.height);
    this.onChange();
  }
}

async function loadImage(src: string | Blob): Promise<ImageBitmap> {
  const blob = typeof src === 'string' ? await (await fetch(src)).blob() : src;
  return createImageBitmap(blob);
}

// ---------------------------------------------------------------------------------------------
// A demo panel: form, run/cancel, status, live view and results

interface PanelSpec {
  /** One of DEMO_PANELS' ids: its title and writeup sections come from there. */
  id: string;
  /** Text under the title. */
  intro: string;
  /** Controls (and surfaces) of the form. */
  controls: HTMLElement[];
  runLabel: string;
  /** The job for the current form values (may throw a message for the reader). */
  job(): DemoJob | Promise<DemoJob>;
  /** Called with a finished result (e.g. to offer stage II). */
  onResult?(result: DemoResult): void;
}

const SERVED = location.protocol === 'http:' || location.protocol === 'https:';

/** A result image at its own size (CSS scales it up) with its caption. */
function resultFigure(label: string, image: Pixels): HTMLElement {
  const c = el('canvas', { class: 'demo-result', role: 'img', 'aria-label': label });
  drawPixels(c, image);
  return el('figure', {}, c, el('figcaption', {}, label));
}

function panel(spec: PanelSpec, worker: DemoWorker): HTMLElement {
  const info = demoPanel(spec.id);
  const runButton = el('button', { type: 'submit', class: 'demo-run' }, spec.runLabel);
  const cancelButton = el('button', { type: 'button', class: 'demo-cancel', disabled: true }, 'Cancel');
  const status = el('p', { class: 'demo-status', role: 'status', 'aria-live': 'polite' });
  const progress = el('progress', { max: 1, value: 0, 'aria-label': `${info.title}: progress` });
  const live = el('canvas', { class: 'demo-live', width: 1, height: 1, role: 'img', 'aria-label': 'the image being denoised' });
  const results = el('div', { class: 'demo-results' });
  const form = el('form', { class: 'demo-form' }, ...spec.controls, el('div', { class: 'demo-buttons' }, runButton, cancelButton));
  const links = info.sections.map(([page, text], i) => [i > 0 ? ', ' : '', el('a', { href: `${page}.html` }, text)]).flat();
  const section = el(
    'section',
    { class: 'demo', id: spec.id, 'aria-labelledby': `${spec.id}-title` },
    el('h2', { id: `${spec.id}-title` }, info.title),
    el('p', {}, spec.intro, ' ', ...(links.length ? ['(In the writeup: ', ...links, '.)'] : [])),
    el('div', { class: 'demo-body' }, form, el('div', { class: 'demo-output' }, live, progress, status, results)),
  );
  if (!SERVED) {
    runButton.disabled = true;
    status.textContent =
      'The live demos need the site served over http: browsers do not run its Web Worker from a file. Run `npm run serve` in the repository and open the address it prints.';
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    runButton.disabled = true;
    cancelButton.disabled = false;
    progress.value = 0;
    status.textContent = 'Starting...';
    const t0 = performance.now();
    try {
      const job = await spec.job();
      const { result, ms } = await worker.run(job, {
        onLoading: (model, bytes) => (status.textContent = `Loading the ${model} model (${(bytes / 1e6).toFixed(1)} MB)...`),
        onProgress: (done, total, frame) => {
          if (total > 0) {
            progress.max = total;
            progress.value = done;
            status.textContent = `Step ${done} of ${total}`;
          }
          if (frame) drawPixels(live, frame);
        },
      });
      results.replaceChildren(...result.images.map(({ label, image }) => resultFigure(label, image)));
      const total = (performance.now() - t0) / 1000;
      status.textContent = `Done in ${total.toFixed(1)} s (model loading ${(ms.load / 1000).toFixed(1)} s, computing ${(ms.compute / 1000).toFixed(1)} s) on ${worker.backendLine || 'the worker'}.`;
      section.dataset.lastRunMs = String(Math.round(total * 1000));
      section.dataset.computeMs = String(Math.round(ms.compute));
      spec.onResult?.(result);
    } catch (err) {
      status.textContent = (err as Error).message;
    } finally {
      runButton.disabled = !SERVED;
      cancelButton.disabled = true;
      section.dataset.runs = String(Number(section.dataset.runs ?? 0) + 1);
    }
  });
  cancelButton.addEventListener('click', () => worker.cancel());
  return section;
}

// ---------------------------------------------------------------------------------------------
// The demos

const EXAMPLES: Array<[string, string]> = [
  ['demo/images/photo-rocket.png', 'rocket (photo)'],
  ['demo/images/photo-cat.png', 'cat (photo)'],
  ['demo/images/photo-coffee.png', 'coffee (photo)'],
  ['demo/images/web-sunflower.png', 'sunflower (clip art)'],
];

function seedRow(): { row: HTMLElement; input: HTMLInputElement } {
  return numberInput('Seed', 0, 0, 4294967295);
}

function cfgRow(): { row: HTMLElement; input: HTMLInputElement } {
  return slider('CFG scale', 0, 15, 0.5, 7);
}

/** A prompt as a job takes it: trimmed, and refused (not echoed whole) when longer than any caption. */
function promptValue(input: HTMLInputElement): string {
  const prompt = input.value.trim();
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new Error(`The prompt has ${prompt.length} characters; these models read at most ${MAX_PROMPT_CHARS} (a few words): shorten it.`);
  }
  return prompt;
}

/**
 * A file input that draws the chosen picture on the pad. A file the browser cannot read as an
 * image clears the pad (so no run uses the previous picture) and says so beside the input.
 */
function uploadRow(pad: Sketchpad): HTMLElement {
  const upload = el('input', { type: 'file', accept: 'image/*' });
  const message = el('p', { class: 'demo-upload-error', role: 'alert' });
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    message.textContent = '';
    if (!file) return;
    try {
      pad.drawImage(await loadImage(file));
    } catch {
      pad.clear();
      message.textContent = `${file.name} is not an image this browser can read: choose a PNG or JPEG file.`;
    }
  });
  const { row } = field('Or upload an image', upload);
  row.append(message);
  return row;
}

function imageSourceControls(pad: Sketchpad, brushColours: boolean): HTMLElement[] {
  const example = select('Start from', [['', 'a white page'], ...EXAMPLES], '');
  example.input.addEventListener('change', async () => {
    if (!example.input.value) pad.clear();
    else pad.drawImage(await loadImage(example.input.value));
  });
  const controls: HTMLElement[] = [example.row, uploadRow(pad)];
  if (brushColours) {
    const colour = el('input', { type: 'color', value: pad.colour });
    colour.addEventListener('input', () => (pad.colour = colour.value));
    controls.push(field('Brush colour', colour).row);
  }
  const clear = el('button', { type: 'button' }, 'Clear');
  clear.addEventListener('click', () => pad.clear());
  // Without a pointer: a simple drawing made for you (a house under a sun).
  const sketch = el('button', { type: 'button' }, 'Sketch a house for me');
  sketch.addEventListener('click', () => {
    pad.clear();
    pad.strokes(HOUSE_SKETCH);
  });
  controls.push(el('div', { class: 'demo-buttons' }, clear, sketch));
  return controls;
}

/** Strokes of a house and a sun in [0, 1] coordinates, for readers without a pointer. */
const HOUSE_SKETCH: Array<Array<[number, number]>> = [
  [
    [0.25, 0.85],
    [0.25, 0.5],
    [0.75, 0.5],
    [0.75, 0.85],
    [0.25, 0.85],
  ],
  [
    [0.2, 0.52],
    [0.5, 0.25],
    [0.8, 0.52],
  ],
  [
    [0.45, 0.85],
    [0.45, 0.68],
    [0.55, 0.68],
    [0.55, 0.85],
  ],
  [
    [0.12, 0.12],
    [0.2, 0.12],
    [0.2, 0.2],
    [0.12, 0.2],
    [0.12, 0.12],
  ],
];

/** Regions to fill, in [0, 1] coordinates: the inpainting mask without a pointer. */
const MASK_PRESETS: Record<string, [number, number, number, number]> = {
  'the centre': [0.3, 0.3, 0.7, 0.7],
  'the top half': [0, 0, 1, 0.5],
  'the bottom half': [0, 0.5, 1, 1],
  'the left half': [0, 0, 0.5, 1],
  'the right half': [0.5, 0, 1, 1],
};

function textToImage(worker: DemoWorker): HTMLElement {
  const prompt = textInput('Prompt', 'a rocket ship');
  // The value is the number of timesteps (990, 960, ..., 0); the steps between them are one fewer.
  const steps = select(
    'Denoising steps',
    [
      ['12', '11 (stride 90)'],
      ['23', '22 (stride 45)'],
      ['34', '33 (stride 30, as the writeup)'],
      ['67', '66 (stride 15)'],
    ],
    '34',
  );
  const cfg = cfgRow();
  const seed = seedRow();
  let lastImage: Pixels | null = null;
  const stage2 = el('button', { type: 'button', class: 'demo-stage2-run', disabled: true }, 'Stage II: upsample the last image to 64x64');
  // Stage II runs as its own job from the same panel's last image.
  const stage2Out = el('div', { class: 'demo-results demo-stage2', 'aria-live': 'polite' });
  const spec: PanelSpec = {
    id: 'text-to-image',
    intro:
      'Type a prompt in the words the built-in colour model knows (emoji names and keywords, frames such as "an oil painting of a"): stage I denoises 32x32 pure noise, step by step; stage II enlarges the result to 64x64.',
    controls: [prompt.row, steps.row, cfg.row, seed.row],
    runLabel: 'Generate',
    job: () => {
      // A new image: the previous one's stage II result no longer belongs under it.
      lastImage = null;
      stage2.disabled = true;
      stage2Out.replaceChildren();
      return {
        kind: 'text-to-image',
        prompt: promptValue(prompt.input),
        steps: Number(steps.input.value),
        guidance: Number(cfg.input.value),
        seed: Number(seed.input.value),
      };
    },
    onResult: (r) => {
      lastImage = r.images[0].image;
      stage2.disabled = false;
    },
  };
  const section = panel(spec, worker);
  stage2.addEventListener('click', async () => {
    if (!lastImage) return;
    stage2.disabled = true;
    stage2Out.textContent = 'Upsampling...';
    try {
      const { result } = await worker.run(
        { kind: 'upsample', image: lastImage, seed: Number(seed.input.value) },
        { onLoading: () => (stage2Out.textContent = 'Loading stage II...'), onProgress: () => {} },
      );
      stage2Out.replaceChildren(resultFigure(result.images[0].label, result.images[0].image));
    } catch (err) {
      stage2Out.textContent = (err as Error).message;
    } finally {
      stage2.disabled = false;
    }
  });
  section.querySelector('.demo-output')!.append(stage2, stage2Out);
  return section;
}

function imageToImage(worker: DemoWorker): HTMLElement {
  const pad = new Sketchpad(256, '#ffffff', '#1f3a93', 12, 'drawing surface: the input image');
  const prompt = textInput('Prompt', 'a high quality photo');
  const iStart = slider('i_start (less = more editing)', 1, 25, 1, 10, (v) => `${v} (t = ${990 - 30 * v})`);
  const cfg = cfgRow();
  const seed = seedRow();
  return panel(
    {
      id: 'image-to-image',
      intro: 'Draw, or start from a photo, then noise it to i_start and let the model denoise it back: a small i_start keeps little of the input.',
      controls: [pad.canvas, ...imageSourceControls(pad, true), prompt.row, iStart.row, cfg.row, seed.row],
      runLabel: 'Edit',
      job: () => ({
        kind: 'edit',
        image: canvasPixels(pad.canvas, 32, 3),
        prompt: promptValue(prompt.input),
        iStart: Number(iStart.input.value),
        guidance: Number(cfg.input.value),
        seed: Number(seed.input.value),
      }),
    },
    worker,
  );
}

function inpainting(worker: DemoWorker): HTMLElement {
  const image = new Sketchpad(256, '#ffffff', '#000000', 0, 'the image to inpaint');
  const mask = new Sketchpad(256, 'transparent', 'rgba(230, 30, 60, 0.6)', 40, 'paint here the region to fill');
  const stack = el('div', { class: 'demo-stack' }, image.canvas, mask.canvas);
  void loadImage(EXAMPLES[0][0])
    .then((b) => image.drawImage(b))
    .catch(() => {});
  const example = select('Image', EXAMPLES, EXAMPLES[0][0]);
  example.input.addEventListener('change', async () => image.drawImage(await loadImage(example.input.value)));
  // Without a pointer: a preset region (it replaces what was painted).
  const preset = select('Or fill', [['', 'a region you paint'], ...Object.keys(MASK_PRESETS).map((k): [string, string] => [k, k])], '');
  preset.input.addEventListener('change', () => {
    mask.clear();
    const region = MASK_PRESETS[preset.input.value];
    if (region) mask.fillRect(...region);
  });
  const clear = el('button', { type: 'button' }, 'Clear the mask');
  clear.addEventListener('click', () => {
    mask.clear();
    preset.input.value = '';
  });
  const prompt = textInput('Prompt', 'a high quality photo');
  const cfg = cfgRow();
  const seed = seedRow();
  return panel(
    {
      id: 'inpainting',
      intro: 'Paint over the part to replace; everything else is kept from the image at every step.',
      controls: [stack, example.row, uploadRow(image), preset.row, el('div', { class: 'demo-buttons' }, clear), prompt.row, cfg.row, seed.row],
      runLabel: 'Inpaint',
      job: () => {
        const m = canvasPixels(maskAlpha(mask.canvas), 32, 1);
        if (!m.data.some((v) => v > 0.5)) throw new Error('Paint the region to fill first (drag over the image).');
        for (let i = 0; i < m.data.length; i++) m.data[i] = m.data[i] > 0.5 ? 1 : 0;
        return {
          kind: 'inpaint',
          image: canvasPixels(image.canvas, 32, 3),
          mask: m,
          prompt: promptValue(prompt.input),
          guidance: Number(cfg.input.value),
          seed: Number(seed.input.value),
        };
      },
    },
    worker,
  );
}

/** The painted area of a transparent canvas as white on black. */
function maskAlpha(canvas: HTMLCanvasElement): HTMLCanvasElement {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const src = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  const ctx = out.getContext('2d')!;
  const dst = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < src.data.length; i += 4) {
    const v = src.data[i + 3] > 0 ? 255 : 0;
    dst.data[i] = dst.data[i + 1] = dst.data[i + 2] = v;
    dst.data[i + 3] = 255;
  }
  ctx.putImageData(dst, 0, 0);
  return out;
}

function illusions(worker: DemoWorker): HTMLElement {
  const kind = select(
    'Illusion',
    [
      ['anagram', 'visual anagram (upright / upside down)'],
      ['hybrid', 'hybrid image (far / up close)'],
    ],
    'anagram',
  );
  const first = textInput('First prompt (upright, or from far)', 'an oil painting of an old man');
  const second = textInput('Second prompt (upside down, or up close)', 'an oil painting of people and fire');
  const cfg = cfgRow();
  const seed = seedRow();
  return panel(
    {
      id: 'illusions',
      intro: 'Two prompts, one image: every step averages the two noise estimates (anagram) or mixes their low and high frequencies (hybrid).',
      controls: [kind.row, first.row, second.row, cfg.row, seed.row],
      runLabel: 'Make the illusion',
      job: () => ({
        kind: kind.input.value as 'anagram' | 'hybrid',
        prompts: [promptValue(first.input), promptValue(second.input)],
        guidance: Number(cfg.input.value),
        seed: Number(seed.input.value),
      }),
    },
    worker,
  );
}

function denoiseDigit(worker: DemoWorker): HTMLElement {
  const pad = new Sketchpad(224, '#000000', '#ffffff', 20, 'drawing surface: draw a digit');
  const clear = el('button', { type: 'button' }, 'Clear');
  clear.addEventListener('click', () => pad.clear());
  // Without a pointer: a 7 drawn for you.
  const example = el('button', { type: 'button' }, 'Draw a 7 for me');
  example.addEventListener('click', () =>
    pad.strokes([
      [
        [0.25, 0.22],
        [0.75, 0.22],
        [0.45, 0.85],
      ],
    ]),
  );
  const sigma = slider('Noise sigma', 0, 1, 0.05, 0.5, (v) => v.toFixed(2));
  const seed = seedRow();
  return panel(
    {
      id: 'denoise-digit',
      intro: 'Draw a digit (white on black, like MNIST), add noise of level sigma and let the UNet trained in B1 remove it in one step.',
      controls: [pad.canvas, el('div', { class: 'demo-buttons' }, clear, example), sigma.row, seed.row],
      runLabel: 'Add noise and denoise',
      job: () => ({ kind: 'denoise-digit', image: canvasPixels(pad.canvas, 28, 1), sigma: Number(sigma.input.value), seed: Number(seed.input.value) }),
    },
    worker,
  );
}

function sampleDigit(worker: DemoWorker): HTMLElement {
  const digit = select(
    'Digit',
    Array.from({ length: 10 }, (_, d): [string, string] => [String(d), String(d)]),
    '7',
  );
  const gamma = slider('CFG scale gamma', 0, 10, 0.5, 5);
  const seed = seedRow();
  return panel(
    {
      id: 'sample-digit',
      intro: 'Sample a digit with the class-conditioned UNet trained in B2, from pure noise through every timestep, with classifier-free guidance.',
      controls: [digit.row, gamma.row, seed.row],
      runLabel: 'Sample',
      job: () => ({
        kind: 'sample-digit',
        digit: Number(digit.input.value),
        guidance: Number(gamma.input.value),
        seed: Number(seed.input.value),
        frameEvery: 10,
      }),
    },
    worker,
  );
}

function main(): void {
  const root = document.getElementById('demo-root');
  if (!root) return;
  const params = new URLSearchParams(location.search);
  const backend = (params.get('backend') ?? 'wasm') as BackendName;
  if (!['wasm', 'webgl', 'cpu'].includes(backend)) throw new Error(`?backend= must be wasm, webgl or cpu, got ${backend}`);
  const backendNote = el(
    'p',
    { class: 'demo-backend' },
    `Backend: ${backend} (starts with the first demo you run). `,
    el('a', { href: backend === 'webgl' ? '?backend=wasm' : '?backend=webgl' }, backend === 'webgl' ? 'Use wasm' : 'Use WebGL'),
  );
  const setNote = (line: string) => (backendNote.firstChild!.textContent = line);
  const worker = new DemoWorker(
    backend,
    (line) => setNote(`Backend: ${line}. `),
    (message) => setNote(`${message} `),
  );
  root.prepend(backendNote);
  // Each demo replaces the static section of the same id that the site wrote (links to it work
  // without scripts too).
  for (const section of [textToImage(worker), imageToImage(worker), inpainting(worker), illusions(worker), denoiseDigit(worker), sampleDigit(worker)]) {
    const placeholder = document.getElementById(section.id);
    if (placeholder) placeholder.replaceWith(section);
    else root.append(section);
  }
  root.querySelector('.demo-noscript')?.remove();
  document.documentElement.dataset.demoReady = 'true';
}

main();
