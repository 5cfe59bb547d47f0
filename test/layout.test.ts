import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './helpers';

// The project's layering: src/lib is the diffusion library (what the package ships) and imports
// nothing of the writeup, the report builder or the command line; src/writeup builds on the library
// and never on the builder or the command line.

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The project folders (relative to the root) that a file's relative imports and requires reach. */
function importedFolders(root: string, file: string): Array<{ spec: string; target: string }> {
  const text = fs.readFileSync(file, 'utf8');
  const found: Array<{ spec: string; target: string }> = [];
  for (const m of text.matchAll(/(?:from|import|require)\s*\(?\s*['"](\.{1,2}\/[^'"\n]+)['"]/g)) {
    found.push({ spec: m[1], target: path.relative(root, path.resolve(path.dirname(file), m[1])) });
  }
  return found;
}

/** Each import of a file under `folder` that reaches outside the `allowed` folders. */
function escapes(folder: string, allowed: string[], root = ROOT): string[] {
  const bad: string[] = [];
  for (const file of sources(path.join(root, folder))) {
    for (const { spec, target } of importedFolders(root, file)) {
      if (!allowed.some((a) => target === a || target.startsWith(a + path.sep))) bad.push(`${path.relative(root, file)} imports ${spec}`);
    }
  }
  return bad;
}

describe('project layout', () => {
  it('src/lib imports only src/lib', () => {
    assert.deepEqual(escapes('src/lib', ['src/lib']), []);
  });

  it('src/writeup imports only the library and itself', () => {
    assert.deepEqual(escapes('src/writeup', ['src/lib', 'src/writeup']), []);
  });

  it('finds an import that leaves its folder, and passes one that stays', () => {
    const root = tempDir('layout');
    fs.mkdirSync(path.join(root, 'src', 'lib', 'io'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'lib', 'io', 'ok.ts'), "import * as fs from 'fs';\nimport { tf } from '../backend/tf';\n");
    fs.writeFileSync(path.join(root, 'src', 'lib', 'probe.ts'), "import { writeupFile } from '../writeup/files';\nconst t = require('../report/theme');\n");
    assert.deepEqual(escapes('src/lib', ['src/lib'], root).sort(), ['src/lib/probe.ts imports ../report/theme', 'src/lib/probe.ts imports ../writeup/files']);
  });
});
