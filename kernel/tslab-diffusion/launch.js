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
// can kill it on a timeout; such a kernel would outlive a client that dies (Ctrl-C), so it exits
// when its parent is gone.
const parentPid = Number(process.env.TSLAB_DIFFUSION_PARENT_PID);
if (parentPid > 0) {
  setInterval(() => {
    if (process.ppid !== parentPid) process.exit(0);
  }, 1000).unref();
}

// tslab sends on its zeromq sockets without waiting for the previous send, and zeromq 6 refuses a
// send while one is in flight ("Socket is busy writing", which kills the kernel): a notebook that
// updates a progress display just before a cell ends can hit it. Queue the sends per socket.
// A publisher also silently drops messages past its high-water mark (1000): a burst of display
// updates could lose outputs or the cell's final idle status, so the mark is lifted (0 = none).
const zmq = require(require.resolve('zeromq', { paths: [path.dirname(tslabMain)] }));
serializeZmqSends(zmq);
liftPublisherHighWaterMark(zmq);

/** tslab creates its IOPub socket with `new zmq.Publisher()`: give it no high-water mark. */
function liftPublisherHighWaterMark(zmq) {
  const Original = zmq.Publisher;
  if (!Original || Original.__noHighWaterMark) return;
  class Publisher extends Original {
    constructor(options) {
      super({ sendHighWaterMark: 0, ...options });
    }
  }
  Publisher.__noHighWaterMark = true;
  zmq.Publisher = Publisher;
}

function serializeZmqSends(zmq) {
  let proto = zmq.Publisher && zmq.Publisher.prototype;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'send')) proto = Object.getPrototypeOf(proto);
  if (!proto || proto.send.__queued) return;
  const send = proto.send;
  const queues = new WeakMap(); // sockets are not extensible: keep each one's queue here
  const queued = function (msg) {
    const next = (queues.get(this) || Promise.resolve()).then(() => send.call(this, msg));
    queues.set(this, next.catch(() => undefined));
    return next;
  };
  queued.__queued = true;
  // The native binding defines send as read-only but configurable.
  Object.defineProperty(proto, 'send', { value: queued, writable: false, enumerable: false, configurable: true });
}

process.chdir(workDir);
// Hand over to tslab's own command line, exactly as `tslab kernel --config-path <file>` would run.
process.argv = [process.argv[0], path.join(path.dirname(path.dirname(tslabMain)), 'bin', 'tslab'), 'kernel', '--config-path', connectionFile];
require(tslabMain).main();
