/**
 * The site's live demos (src/web/): the page and worker bundled for the browser by esbuild, the
 * wasm binaries of TensorFlow.js, the example images, and the models, all under site/demo/. The
 * colour model comes from the shipped weights; Part B's models are the ones the notebooks
 * trained and shared (shareModel in src/writeup/notebook/display.ts). Weights go out compact: the colour
 * model's large tensors as int8 with per-channel scales (int8Copy), everything else as F16.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { builtinModules } from 'module';
import { writeupFile } from '../writeup/files';
import { EMOJI_STAGE1_FILE, EMOJI_STAGE2_FILE, weightsDir } from '../lib/pretrained/emoji-model';
import { int8Copy } from '../lib/train/network-file';
import type { DemoModelIndex, DemoModelName } from '../web/protocol';

/** A model a notebook shared with the demos (its bytes are already an F16 network file). */
export interface SharedModel {
  name: DemoModelName;
  description: string;
  bytes: Uint8Array;
}

export interface DemoFile {
  /** Relative to the site folder. */
  path: string;
  bytes: Uint8Array;
}

export const DEMO_PAGE = 'try.html';

const WEB_DIR = path.resolve(__dirname, '..', '..', '..', 'src', 'web');
const NODE_BUILTINS = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
/** Packages the browser never reaches: gradients (tfjs-layers), image files, data, the kernel. */
const NOT_IN_BROWSER = /^(@tensorflow\/tfjs-layers|sharp|mnist|zeromq|tslab)$/;

/** Bundles src/web/page.ts and worker.ts (minified, one file each, no source maps: byte-stable). */
async function bundle(): Promise<DemoFile[]> {
  for (const f of ['page.ts', 'worker.ts']) {
    if (!fs.existsSync(path.join(WEB_DIR, f)))
      throw new Error(`The demo sources are missing: ${path.join(WEB_DIR, f)}. Run the report from a checkout of the repository.`);
  }
  const result = await esbuild.build({
    entryPoints: { page: path.join(WEB_DIR, 'page.ts'), worker: path.join(WEB_DIR, 'worker.ts') },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    outdir: 'demo',
    logLevel: 'silent',
    legalComments: 'none',
    // The library reads these in Node-only paths (settings, worker scripts): harmless values here.
    // No SIMD helper thread: it is a Node worker thread.
    define: { 'process.env': '{"DIFFUSION_SIMD_HELPER":"0"}', __dirname: '"."', __filename: '"browser.js"' },
    plugins: [
      {
        name: 'node-only-modules',
        setup(build) {
          build.onResolve({ filter: NODE_BUILTINS }, (a) => ({ path: a.path, namespace: 'node-only' }));
          build.onResolve({ filter: NOT_IN_BROWSER }, (a) => ({ path: a.path, namespace: 'node-only' }));
          build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
        },
      },
    ],
  });
  return result.outputFiles.map((f) => ({ path: `demo/${path.basename(f.path)}`, bytes: f.contents }));
}

function wasmBinaries(): DemoFile[] {
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  // The threaded build needs cross-origin isolation, which static hosts do not give; not shipped.
  return ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'].map((f) => ({ path: `demo/${f}`, bytes: fs.readFileSync(path.join(dist, f)) }));
}

function exampleImages(): DemoFile[] {
  const dir = writeupFile('inputs', 'assets');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => ({ path: `demo/images/${f}`, bytes: fs.readFileSync(path.join(dir, f)) }));
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Every file of site/demo/, and the models index the worker reads. */
export async function buildDemoFiles(shared: readonly SharedModel[]): Promise<{ files: DemoFile[]; index: DemoModelIndex }> {
  const models: Array<{ name: DemoModelName; file: string; description: string; bytes: Uint8Array }> = [];
  for (const [name, file, description] of [
    ['colour', EMOJI_STAGE1_FILE, "the built-in colour model's stage I (text -> 32x32)"],
    ['colour-stage2', EMOJI_STAGE2_FILE, "the built-in colour model's stage II (32 -> 64 px)"],
  ] as const) {
    const src = path.join(weightsDir(), file);
    if (!fs.existsSync(src)) throw new Error(`${src} is missing: restore src/lib/pretrained/weights/ from git.`);
    models.push({ name, file: file.replace('.safetensors', '.int8.safetensors'), description, bytes: int8Copy(fs.readFileSync(src), src) });
  }
  for (const m of shared) {
    if (models.some((o) => o.name === m.name)) throw new Error(`Two notebooks shared a "${m.name}" model with the demos: share each model once.`);
    models.push({ name: m.name, file: `${m.name}.f16.safetensors`, description: m.description, bytes: m.bytes });
  }
  const index: DemoModelIndex = { models: {} };
  for (const m of models) index.models[m.name] = { file: m.file, bytes: m.bytes.length, sha256: sha256(m.bytes), description: m.description };
  const files: DemoFile[] = [
    ...(await bundle()),
    ...wasmBinaries(),
    ...exampleImages(),
    ...models.map((m) => ({ path: `demo/models/${m.file}`, bytes: m.bytes })),
    { path: 'demo/models/models.json', bytes: Buffer.from(JSON.stringify(index, null, 2) + '\n') },
  ];
  return { files, index };
}
