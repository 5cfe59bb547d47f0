#!/usr/bin/env node
// Assembles src/lib/backend/simd/*.wat into the base64 modules the library embeds
// (src/lib/backend/simd/*-wasm.ts), so neither dist/ nor the notebook kernel needs a .wasm file
// beside the code. (Not "*.wasm.ts": the notebook kernel would resolve "./x.wasm" as a file with
// the extension .wasm.) Run after editing a .wat file: `npm run build:wasm`. A test checks that
// the embedded binaries match their sources.
const fs = require('fs');
const path = require('path');

const DIR = path.join(__dirname, '..', 'src', 'lib', 'backend', 'simd');

async function assemble(watFile) {
  const wabt = await require('wabt')();
  const module = wabt.parseWat(path.basename(watFile), fs.readFileSync(watFile, 'utf8'), { simd: true, relaxed_simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

function tsSource(watName, binary) {
  const name = path.basename(watName, '.wat').toUpperCase().replace(/-/g, '_') + '_WASM';
  const lines = binary.toString('base64').match(/.{1,96}/g).map((l) => `  '${l}' +`);
  lines[lines.length - 1] = lines[lines.length - 1].replace(/ \+$/, ',');
  return [
    `// Generated from ${watName} by \`npm run build:wasm\` (scripts/build-wasm.js). Do not edit.`,
    `export const ${name} = Buffer.from(`,
    ...lines,
    `  'base64',`,
    `);`,
    '',
  ].join('\n');
}

async function main() {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith('.wat'))) {
    const out = path.join(DIR, f.replace(/\.wat$/, '-wasm.ts'));
    const text = tsSource(f, await assemble(path.join(DIR, f)));
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

module.exports = { assemble, tsSource };
if (require.main === module) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
