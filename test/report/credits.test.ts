import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { EMOJI_STYLE_SOURCES } from '../../src/lib/data/emoji';
import { CREDITS_FILE } from '../../src/report/build';

describe('credits page (docs/credits.md, published as credits.html)', () => {
  const text = fs.readFileSync(CREDITS_FILE, 'utf8');

  it('credits every art set the colour model and its judge learn from, with its licence', () => {
    for (const [style, src] of Object.entries(EMOJI_STYLE_SOURCES)) {
      assert.ok(text.includes(`\`${src.package}\``), `${style}: package ${src.package} is credited`);
      const licence = src.licence.replace('CC-BY-SA-4.0', 'CC BY-SA 4.0').replace('CC-BY-4.0', 'CC BY 4.0').replace('Apache-2.0', 'Apache License 2.0');
      assert.ok(text.includes(licence), `${style}: licence ${licence} is stated`);
    }
  });

  it('credits every image Part A shows', () => {
    const assets = fs.readdirSync(path.join('src', 'writeup', 'inputs', 'assets')).filter((f) => f.endsWith('.png'));
    assert.ok(assets.length >= 4);
    const readme = fs.readFileSync(path.join('src', 'writeup', 'inputs', 'assets', 'README.md'), 'utf8');
    for (const f of assets) assert.ok(readme.includes(`\`${f}\``), `${f} has a source and licence in assets/README.md`);
    for (const source of ['rocket.jpg', 'chelsea.png', 'coffee.png', 'sunflower']) assert.ok(text.includes(source), `${source} is credited`);
  });
});
