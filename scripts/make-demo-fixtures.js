// Writes the trained models the live-demo browser tests use (test/fixtures/demo/), as F16 files:
// Part B's single-step denoiser and class-conditioned UNet (runs of the quick profile) and the
// MNIST judge. Run after `npm run build`:
//   node scripts/make-demo-fixtures.js --denoiser outputs/runs/denoiser-<hash> --class outputs/runs/class-<hash> --judge outputs/judge/<dir>
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const dist = path.join(__dirname, '..', 'dist', 'src', 'lib');
const { initBackend } = require(path.join(dist, 'backend', 'select'));
const { loadTrainedNetwork } = require(path.join(dist, 'train', 'trainer'));
const { encodeNetworkFile, halfPrecisionCopy } = require(path.join(dist, 'train', 'network-file'));

async function main() {
  const { values } = parseArgs({ options: { denoiser: { type: 'string' }, class: { type: 'string' }, judge: { type: 'string' } } });
  const out = path.join(__dirname, '..', 'test', 'fixtures', 'demo');
  fs.mkdirSync(out, { recursive: true });
  await initBackend({ quiet: true });
  const record = {};
  for (const [name, runDir] of [
    ['denoiser', values.denoiser],
    ['class-conditioned', values.class],
  ]) {
    if (!runDir) continue;
    const { model, meta, epoch } = loadTrainedNetwork(runDir);
    const bytes = await encodeNetworkFile(model, meta.config, { dtype: 'F16' });
    fs.writeFileSync(path.join(out, `${name}.f16.safetensors`), bytes);
    record[name] = {
      run: path.basename(runDir),
      epoch,
      kind: meta.config.kind,
      hidden: meta.config.hidden,
      lastEpochLoss: meta.epochs[meta.epochs.length - 1].meanLoss,
    };
  }
  if (values.judge) {
    const file = path.join(values.judge, 'classifier.safetensors');
    // A judge file is a plain checkpoint; the F16 copy works the same on any safetensors file.
    fs.writeFileSync(path.join(out, 'digit-judge.f16.safetensors'), halfPrecisionCopy(fs.readFileSync(file), file));
    record.judge = JSON.parse(fs.readFileSync(path.join(values.judge, 'judge.json'), 'utf8'));
  }
  const recordFile = path.join(out, 'fixtures.json');
  const previous = fs.existsSync(recordFile) ? JSON.parse(fs.readFileSync(recordFile, 'utf8')) : {};
  fs.writeFileSync(recordFile, JSON.stringify({ ...previous, ...record }, null, 2) + '\n');
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
