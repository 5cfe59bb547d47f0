import { Stroke } from '../../lib/images/strokes';

/**
 * The two "hand-drawn" images of SPEC 1.7.1, stored as the strokes a person drew (unit
 * coordinates, slightly wobbly on purpose) and rasterised at whatever size a model needs.
 */
export interface Sketch {
  title: string;
  strokes: readonly Stroke[];
  /** Pen width in unit coordinates (0.08 is about 2 px at 28 px). */
  penWidth: number;
}

/** A t-shirt drawn as an outline: shoulders, short sleeves, body, and a round neckline. */
export const SKETCH_TSHIRT: Sketch = {
  title: 'hand-drawn t-shirt',
  penWidth: 0.08,
  strokes: [
    [
      [0.38, 0.17],
      [0.27, 0.2],
      [0.13, 0.33],
      [0.2, 0.44],
      [0.29, 0.39],
      [0.3, 0.86],
      [0.5, 0.87],
      [0.71, 0.85],
      [0.7, 0.39],
      [0.8, 0.45],
      [0.88, 0.32],
      [0.73, 0.19],
      [0.62, 0.17],
    ],
    [
      [0.38, 0.17],
      [0.43, 0.24],
      [0.5, 0.26],
      [0.57, 0.24],
      [0.62, 0.17],
    ],
  ],
};

/** A house: a box, a pointed roof and a door, each a separate stroke. */
export const SKETCH_HOUSE: Sketch = {
  title: 'hand-drawn house',
  penWidth: 0.08,
  strokes: [
    [
      [0.22, 0.47],
      [0.21, 0.86],
      [0.79, 0.85],
      [0.78, 0.46],
      [0.22, 0.47],
    ],
    [
      [0.14, 0.5],
      [0.5, 0.14],
      [0.86, 0.49],
    ],
    [
      [0.43, 0.85],
      [0.44, 0.64],
      [0.57, 0.64],
      [0.57, 0.85],
    ],
  ],
};

export const SKETCHES: readonly Sketch[] = [SKETCH_TSHIRT, SKETCH_HOUSE];
