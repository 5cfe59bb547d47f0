import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { allPrompts, partAPrompts } from '../../src/writeup/inputs/prompts';
import { writeSafetensorsFile, NamedTensor } from '../../src/lib/io/safetensors';
import { Rng } from '../../src/lib/random';
import { executeNotebook } from '../../src/report/execute';
import { tempDir } from '../helpers';

/**
 * Issue 7's end-to-end check: a Part A notebook runs on DeepFloyd IF's architecture. The small
 * fixture model (random weights, 16 px) is laid out as a diffusers folder, with random prompt
 * embeddings for every prompt the notebooks use; the images are noise, but every step runs.
 */
describe('Part A notebook on the DeepFloyd IF fixture model', function () {
  this.timeout(300000);

  it('runs a1-forward-and-denoising end to end with model = deepfloyd-if', async () => {
    const fixture = path.join('test', 'fixtures', 'deepfloyd-if-stage1', 'if1_small_s16');
    const json = JSON.parse(fs.readFileSync(path.join(fixture, 'fixture.json'), 'utf8'));
    const folder = tempDir('if-folder');
    fs.mkdirSync(path.join(folder, 'unet'));
    fs.writeFileSync(path.join(folder, 'unet', 'config.json'), JSON.stringify(json.unet_config));
    fs.copyFileSync(path.join(fixture, 'weights.safetensors'), path.join(folder, 'unet', 'diffusion_pytorch_model.safetensors'));
    const [tokens, width] = json.arrays.input_encoder_hidden_states.shape.slice(1) as [number, number];
    const rng = new Rng(0);
    const prompts: Record<string, NamedTensor> = {};
    for (const p of allPrompts(partAPrompts('deepfloyd-if'))) {
      prompts[p] = { dtype: 'F32', shape: [tokens, width], data: p === '' ? new Float32Array(tokens * width) : rng.normalArray(tokens * width) };
    }
    writeSafetensorsFile(path.join(folder, 'prompts.safetensors'), prompts);

    const outputs = tempDir('if-outputs');
    process.env.DIFFUSION_OUTPUTS = outputs;
    try {
      const nb = await executeNotebook('notebooks/a1-forward-and-denoising.ipynb', {
        timeoutSec: 240,
        parameters: { profile: 'smoke', seed: 0, model: 'deepfloyd-if', modelPath: folder, promptsPath: path.join(folder, 'prompts.safetensors') },
      });
      const figures = nb.cells
        .flatMap((c) => (c.cell_type === 'code' ? c.outputs : []))
        .filter((o) => o.output_type === 'display_data' && (o.metadata as { figure?: unknown }).figure);
      assert.ok(figures.length >= 3, `expected the section's figures, got ${figures.length}`);
      const written = fs.readdirSync(path.join(outputs, 'a1-forward-and-denoising')).filter((f) => f.endsWith('.png'));
      assert.equal(written.length, figures.length);
    } finally {
      delete process.env.DIFFUSION_OUTPUTS;
    }
  });
});
