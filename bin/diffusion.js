#!/usr/bin/env node
// The `diffusion` command (package.json "bin"): runs the CLI that `npm run build` compiles to
// dist/src/cli/main.js. That CLI (training, Part B, benchmarks) works from a clone of the
// repository; the packed library (npm pack, "files" in package.json) ships the library only, so
// there this says so instead of failing on a missing module.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
if (fs.existsSync(cli)) {
  require(cli);
} else if (fs.existsSync(path.join(root, 'src', 'cli'))) {
  process.stderr.write(`diffusion: ${cli} is missing; run \`npm run build\` in ${root} first.\n`);
  process.exitCode = 1;
} else {
  process.stderr.write(
    'diffusion: this installed copy of diffusion-ts is the library only (require or import "diffusion-ts").\n' +
      'The diffusion command runs from a clone of the repository: npm ci && npm run build && node dist/src/cli/main.js --help\n',
  );
  process.exitCode = 1;
}
