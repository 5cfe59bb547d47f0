#!/usr/bin/env node
// Makes the colour images of Part A (src/writeup/inputs/assets/): square crops of openly licensed
// photos shipped by Debian's python3-skimage (apt-get install python3-skimage) and one clip-art
// "web image" from the EmojiOne 2 set (npm @iconify-json/emojione, a devDependency), each
// 128x128 RGB PNG. The crops are committed; this script documents and reproduces them.
// Needs the devDependency sharp.
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

const SKIMAGE = process.env.SKIMAGE_DATA || '/usr/lib/python3/dist-packages/skimage/data';
const OUT = path.join(__dirname, '..', 'src', 'writeup', 'inputs', 'assets');
const SIZE = 128;

// Crop boxes in the source's pixels (left, top, side), chosen by eye to centre the subject.
const PHOTOS = [
  { file: 'rocket.jpg', out: 'photo-rocket.png', box: [170, 127, 300] },
  { file: 'chelsea.png', out: 'photo-cat.png', box: [30, 0, 300] },
  { file: 'coffee.png', out: 'photo-coffee.png', box: [110, 20, 360] },
];

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const p of PHOTOS) {
    const src = path.join(SKIMAGE, p.file);
    if (!fs.existsSync(src)) throw new Error(`${src} is missing: apt-get install python3-skimage (or set SKIMAGE_DATA)`);
    const [left, top, side] = p.box;
    await sharp(src)
      .extract({ left, top, width: side, height: side })
      .resize(SIZE, SIZE, { kernel: 'lanczos3' })
      .removeAlpha()
      .png({ compressionLevel: 9 })
      .toFile(path.join(OUT, p.out));
    console.log(`made ${p.out} from ${p.file}`);
  }
  const set = require('@iconify-json/emojione/icons.json');
  const icon = set.icons.sunflower;
  const w = icon.width || set.width;
  const h = icon.height || set.height;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${icon.body}</svg>`;
  await sharp(Buffer.from(svg), { density: 600 })
    .resize(SIZE, SIZE, { fit: 'contain', background: '#ffffff' })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toFile(path.join(OUT, 'web-sunflower.png'));
  console.log('made web-sunflower.png from @iconify-json/emojione (sunflower)');
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
