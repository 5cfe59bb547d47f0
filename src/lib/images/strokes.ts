import { Pixels } from './pixels';

/** A polyline in unit coordinates: x to the right, y down, both 0..1 across the image. */
export type Stroke = ReadonlyArray<readonly [number, number]>;

/**
 * Rasterises strokes as anti-aliased thick lines, white (1) on black (0), on a size x size gray
 * canvas. A pixel's ink is the coverage of a disc-swept pen of the given width (in unit
 * coordinates), approximated by clamp(r + 0.5 - d, 0, 1) with d the distance in pixels from the
 * pixel's centre to the nearest segment: exact for straight edges, smooth at any size.
 */
export function rasteriseStrokes(strokes: readonly Stroke[], size: number, penWidth: number): Pixels {
  if (!Number.isInteger(size) || size < 1) throw new Error(`rasteriseStrokes: size must be a positive integer, got ${size}`);
  if (!(penWidth > 0)) throw new Error(`rasteriseStrokes: pen width must be positive (unit coordinates), got ${penWidth}`);
  const r = (penWidth * size) / 2;
  const data = new Float32Array(size * size);
  for (const stroke of strokes) {
    if (stroke.length === 0) continue;
    const pts = stroke.map(([x, y]) => [x * size, y * size] as const);
    const segments = pts.length === 1 ? [[pts[0], pts[0]]] : pts.slice(1).map((p, i) => [pts[i], p]);
    for (const [a, b] of segments) {
      // Only pixels near the segment's bounding box can get ink.
      const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - r - 1));
      const x1 = Math.min(size - 1, Math.ceil(Math.max(a[0], b[0]) + r + 1));
      const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - r - 1));
      const y1 = Math.min(size - 1, Math.ceil(Math.max(a[1], b[1]) + r + 1));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const d = distanceToSegment(x + 0.5, y + 0.5, a, b);
          const ink = Math.min(1, Math.max(0, r + 0.5 - d));
          const i = y * size + x;
          if (ink > data[i]) data[i] = ink;
        }
      }
    }
  }
  return { height: size, width: size, channels: 1, data };
}

export function distanceToSegment(px: number, py: number, a: readonly [number, number], b: readonly [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const s = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((px - a[0]) * dx + (py - a[1]) * dy) / len2));
  return Math.hypot(px - (a[0] + s * dx), py - (a[1] + s * dy));
}
