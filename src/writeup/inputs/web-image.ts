import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from '../../lib/display/font';
import { Pixels } from '../../lib/images/pixels';

/**
 * The out-of-distribution "web image" of SPEC 1.7.1: a character typeset with the project's 5x7
 * bitmap font, white on black, filling `height` of the image's height and centred. Each font dot
 * is a square; edges are anti-aliased by 4x4 supersampling so it stays clean at any size.
 */
export function typesetGlyph(ch: string, size: number, height = 0.7): Pixels {
  if (ch.length !== 1) throw new Error(`typesetGlyph: give one character, got ${JSON.stringify(ch)}`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`typesetGlyph: size must be a positive integer, got ${size}`);
  if (!(height > 0 && height <= 1)) throw new Error(`typesetGlyph: height must be in (0, 1], got ${height}`);
  const rows = glyphRows(ch);
  const dot = (height * size) / GLYPH_HEIGHT;
  const left = (size - dot * GLYPH_WIDTH) / 2;
  const top = (size - dot * GLYPH_HEIGHT) / 2;
  const inked = (x: number, y: number): boolean => {
    const gx = Math.floor((x - left) / dot);
    const gy = Math.floor((y - top) / dot);
    if (gx < 0 || gy < 0 || gx >= GLYPH_WIDTH || gy >= GLYPH_HEIGHT) return false;
    return ((rows[gy] >> (GLYPH_WIDTH - 1 - gx)) & 1) === 1;
  };
  const ss = 4;
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) if (inked(x + (sx + 0.5) / ss, y + (sy + 0.5) / ss)) hits++;
      data[y * size + x] = hits / (ss * ss);
    }
  }
  return { height: size, width: size, channels: 1, data };
}

/** The character used as the web image: a typeset 3 (the built-in model knows handwritten ones). */
export const WEB_IMAGE_CHAR = '3';
