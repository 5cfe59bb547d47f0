#!/usr/bin/env node
// Starts the tslab TypeScript kernel for this repository.
//
// tslab compiles every cell with its root directory set to the kernel's working directory and
// ignores tsconfig.json, so the kernel must run at the repository root: notebooks then import the
// library as `./src/lib/...`. This file lives in <repo>/kernel/tslab-diffusion/, so the root is two
// folders up. TSLAB_DIFFUSION_CWD (set by the headless client's `cwd` option) overrides it.
//
// Usage (Jupyter fills in the connection file): node launch.js <connection_file>
'use strict';
const fs = require('fs');
const path = require('path');

const connectionFile = process.argv[2] && path.resolve(process.argv[2]);
if (!connectionFile || !fs.existsSync(connectionFile)) {
  console.error(
    `launch.js: expected the path of a Jupyter connection file as the only argument, got ${JSON.stringify(connectionFile)}. ` +
      'Jupyter passes it through kernel.json ("{connection_file}"); start Jupyter with `npm run jupyter`.',
  );
  process.exit(2);
}

const repoRoot = path.resolve(__dirname, '..', '..');
const workDir = path.resolve(process.env.TSLAB_DIFFUSION_CWD || repoRoot);

let tslabMain;
try {
  tslabMain = require.resolve('tslab/dist/main.js', { paths: [repoRoot] });
} catch {
  console.error(`launch.js: tslab is not installed under ${repoRoot}. Run \`npm install\` (or \`npm ci\`) there first.`);
  process.exit(2);
}

// A headless client (src/report/kernel-client.ts) starts the kernel in its own process group so it
// can kill it on a timeout; such a kernel would outlive a client that dies (Ctrl-C, kill -9).
// A cell of long synchronous work blocks this process's timers, so a separate watchdog process
// does the watching (watchdog.js): it kills this kernel's process group and removes the
// connection folder as soon as the client is gone, even mid-cell.
const parentPid = Number(process.env.TSLAB_DIFFUSION_PARENT_PID);
if (parentPid > 0) {
  const { spawn } = require('child_process');
  spawn(process.execPath, [path.join(__dirname, 'watchdog.js'), String(parentPid), String(process.pid), path.dirname(connectionFile)], {
    stdio: 'ignore',
  }).unref();
}

// zeromq 6 workarounds for tslab's use of it (see zmq-patches.js).
const zmq = require(require.resolve('zeromq', { paths: [path.dirname(tslabMain)] }));
const patches = require('./zmq-patches');
patches.serializeSends(zmq);
patches.liftPublisherHighWaterMark(zmq);
patches.retryReceiveDuringBind(zmq);

process.chdir(workDir);
// Hand over to tslab's own command line, exactly as `tslab kernel --config-path <file>` would run.
process.argv = [process.argv[0], path.join(path.dirname(path.dirname(tslabMain)), 'bin', 'tslab'), 'kernel', '--config-path', connectionFile];
require(tslabMain).main();
