#!/usr/bin/env node
// Watches a headless report build for its kernel (see launch.js). A cell can run for minutes of
// synchronous work, which blocks the kernel's own timers, so this small separate process does the
// watching: when the builder is gone (killed, even with -9), it kills the kernel's process group
// and removes the kernel's connection folder; when the kernel is gone, it exits.
//
// Usage: node watchdog.js <builder pid> <kernel pid> <connection folder>
'use strict';
const fs = require('fs');
const path = require('path');

const [builder, kernel] = process.argv.slice(2, 4).map(Number);
const connectionDir = process.argv[4];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

setInterval(() => {
  if (!alive(kernel)) process.exit(0);
  if (alive(builder)) return;
  // Only the folders the headless client makes (never anything else, whatever the argument).
  if (connectionDir && path.basename(connectionDir).startsWith('diffusion-kernel-')) {
    fs.rmSync(connectionDir, { recursive: true, force: true });
  }
  for (const target of [-kernel, kernel]) {
    try {
      process.kill(target, 'SIGKILL'); // the group (the kernel leads it) takes this process too
    } catch {
      // already gone
    }
  }
  process.exit(0);
}, 500);
