import * as fs from 'fs';
import * as path from 'path';

/** Versions that go into every run's metadata and the site manifest. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const project = findProjectPackage();
  if (project) out['diffusion-ts'] = project.version;
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    const v = packageVersion(name);
    if (v) out[name] = v;
  }
  return out;
}

/** What `--version` prints: this package's version, then Node's and TensorFlow.js's. */
export function versionText(): string {
  const { 'diffusion-ts': own = 'unknown', ...others } = versions();
  return `diffusion-ts ${own}\n${Object.entries(others)
    .map(([k, v]) => `${k} ${v}`)
    .join('\n')}\n`;
}

/** The installed version of a package, or null when it is not installed. */
export function packageVersion(name: string): string | null {
  try {
    const file = require.resolve(`${name}/package.json`);
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The project's root folder (where its package.json is), found from this file upwards. */
export function projectRoot(): string {
  const found = findProjectPackage();
  if (!found) throw new Error('Cannot find the diffusion-ts package.json above ' + __dirname);
  return found.dir;
}

function findProjectPackage(): { dir: string; version: string } | null {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'diffusion-ts') return { dir, version: pkg.version };
    }
    dir = path.dirname(dir);
  }
  return null;
}
