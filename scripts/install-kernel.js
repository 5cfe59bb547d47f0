#!/usr/bin/env node
// `npm run kernel:install`: installs this repository's "TypeScript (diffusion-ts)" kernel for the
// current user, so `jupyter kernelspec list`, JupyterLab, Notebook 7 and VS Code find it (the way
// `tslab install` does for plain tslab). The kernelspec points at this checkout's launch.js by its
// absolute path and at this Node by its absolute path; run it again after moving the checkout.
//
// Where: $JUPYTER_DATA_DIR/kernels/tslab-diffusion, else ~/.local/share/jupyter/kernels/... (Linux),
// ~/Library/Jupyter/kernels/... (macOS), %APPDATA%\jupyter\kernels\... (Windows).
// --uninstall removes it.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const NAME = 'tslab-diffusion';
const repoRoot = path.resolve(__dirname, '..');
const source = path.join(repoRoot, 'kernel', NAME);

function dataDir() {
  if (process.env.JUPYTER_DATA_DIR) return path.resolve(process.env.JUPYTER_DATA_DIR);
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Jupyter');
  if (process.platform === 'win32') return path.join(process.env.APPDATA || os.homedir(), 'jupyter');
  return path.join(process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'jupyter');
}

function main() {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log('npm run kernel:install [-- --uninstall]: installs (or removes) the "TypeScript (diffusion-ts)" Jupyter kernel for this user.');
    return;
  }
  const target = path.join(dataDir(), 'kernels', NAME);
  if (process.argv.includes('--uninstall')) {
    fs.rmSync(target, { recursive: true, force: true });
    console.log(`Removed the kernel from ${target}`);
    return;
  }
  const spec = JSON.parse(fs.readFileSync(path.join(source, 'kernel.json'), 'utf8'));
  if (!fs.existsSync(path.join(repoRoot, 'node_modules', 'tslab'))) {
    console.error(`tslab is not installed in ${repoRoot}: run \`npm ci\` there first.`);
    process.exit(1);
  }
  // The committed spec uses {resource_dir} (the folder Jupyter copied); the installed one names
  // this checkout and this Node, so it works from any folder and any Jupyter front end.
  spec.argv = [process.execPath, path.join(source, 'launch.js'), '{connection_file}'];
  fs.mkdirSync(target, { recursive: true });
  const tmp = path.join(target, `.kernel.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(spec, null, 2) + '\n');
  fs.renameSync(tmp, path.join(target, 'kernel.json'));
  console.log(`Installed "${spec.display_name}" in ${target} (kernel of ${repoRoot}).`);
  console.log('Jupyter, JupyterLab and VS Code list it now; `jupyter kernelspec list` shows it.');
}

main();
