#!/usr/bin/env node
// Assembles src/lib/backend/simd/*.wat into the base64 modules the library embeds
// (src/lib/backend/simd/*-wasm.ts), so neither dist/ nor the notebook kernel needs a .wasm file
// beside the code. (Not "*.wasm.ts": the notebook kernel would resolve "./x.wasm" as a file with
// the extension .wasm.) Run after editing a .wat file: `npm run build:wasm`. A test checks that
// the embedded binaries match their sources.
//
// Each module imports its memory, so that it can work on the wasm backend's heap in place. The
// threaded wasm backend's heap is a shared memory, which an import must declare as shared: every
// module is assembled twice, as written and with its memory import made shared.
const fs = require('fs');
const path = require('path');

const DIR = path.join(__dirname, '..', 'src', 'lib', 'backend', 'simd');
const MEMORY_IMPORT = '(import "env" "memory" (memory 1))';
const SHARED_MEMORY_IMPORT = '(import "env" "memory" (memory 1 65536 shared))';

async function assemble(name, text, validate = true) {
  const wabt = await require('wabt')();
  const module = wabt.parseWat(name, text, { simd: true, relaxed_simd: true, threads: true, bulk_memory: true });
  try {
    if (validate) module.validate();
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

function base64Lines(binary) {
  const lines = binary
    .toString('base64')
    .match(/.{1,96}/g)
    .map((l) => `  '${l}' +`);
  lines[lines.length - 1] = lines[lines.length - 1].replace(/ \+$/, ',');
  return lines;
}

/** The TypeScript source embedding both assemblies of one .wat file. */
async function generate(watFile) {
  const watName = path.basename(watFile);
  const text = fs.readFileSync(watFile, 'utf8');
  if (!text.includes(MEMORY_IMPORT)) throw new Error(`${watName} must import its memory as ${MEMORY_IMPORT}.`);
  const plain = await assemble(watName, text);
  // Not validated here: wabt 1.0.39's validator rejects shared memories even with threads on.
  // It is the module validated above but for the import; V8 validates it when it loads.
  const shared = await assemble(watName, text.replace(MEMORY_IMPORT, SHARED_MEMORY_IMPORT), false);
  const name = path.basename(watName, '.wat').toUpperCase().replace(/-/g, '_') + '_WASM';
  return [
    `// Generated from ${watName} by \`npm run build:wasm\` (scripts/build-wasm.js). Do not edit.`,
    `import { base64Bytes } from './base64';`,
    '',
    `export const ${name} = {`,
    `  plain: base64Bytes(`,
    ...base64Lines(plain).map((l) => '  ' + l),
    `  ),`,
    `  // The same module, its memory import declared shared (for the threaded backend's heap).`,
    `  shared: base64Bytes(`,
    ...base64Lines(shared).map((l) => '  ' + l),
    `  ),`,
    `};`,
    '',
  ].join('\n');
}

async function main() {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith('.wat'))) {
    const out = path.join(DIR, f.replace(/\.wat$/, '-wasm.ts'));
    const text = await generate(path.join(DIR, f));
    const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    if (current === text) continue;
    if (check) {
      console.error(`${path.relative(process.cwd(), out)} does not match ${f}: run \`npm run build:wasm\`.`);
      stale++;
      continue;
    }
    fs.writeFileSync(out + '.tmp', text);
    fs.renameSync(out + '.tmp', out);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
  if (stale) process.exit(1);
}

module.exports = { generate };
if (require.main === module) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
