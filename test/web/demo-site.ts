// A small site with the live demos for the browser tests: one page whose notebook shared the
// trained Part B models of test/fixtures/demo/ (see scripts/make-demo-fixtures.js), so the demo
// files come out of the real render -> site path.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SHARED_MODEL_MIME } from '../../src/writeup/contract';
import { buildSite } from '../../src/report/site';

export const DEMO_FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'demo');

function sharedOutput(name: string, description: string): Record<string, unknown> {
  const bytes = fs.readFileSync(path.join(DEMO_FIXTURES, `${name}.f16.safetensors`));
  return {
    output_type: 'display_data',
    data: { [SHARED_MODEL_MIME]: bytes.toString('base64'), 'text/plain': `shared ${name}` },
    metadata: { sharedModel: { name, description } },
  };
}

/** Builds the site into a fresh temporary folder and returns its path. */
export async function buildDemoSite(): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-site-'));
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', metadata: {}, source: '# Part B\n\nThe trained models.' },
      {
        cell_type: 'code',
        metadata: {},
        execution_count: 1,
        source: "await shareModel(nb, 'denoiser', ...)",
        outputs: [sharedOutput('denoiser', 'the single-step denoiser'), sharedOutput('class-conditioned', 'the class-conditioned UNet')],
      },
    ],
  };
  const dir = path.join(root, 'site');
  await buildSite({
    outDir: dir,
    title: 'Demo test',
    parts: [{ title: 'Part B', notebooks: ['b2-diffusion-models'] }],
    notebooks: [{ name: 'b2-diffusion-models', notebook: notebook as never }],
    demo: true,
  });
  return dir;
}
