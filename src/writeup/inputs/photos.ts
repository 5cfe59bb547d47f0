/**
 * The fixed "photos" of Part A: stand-ins for the original's Campanile and own photos, taken from
 * the Fashion-MNIST test set (t10k images, MIT licence) and stored here as their 784 raw bytes
 * (28x28, 0 = black background, 255 = white), so they need neither the data set nor a download.
 * test/inputs/ checks them against the data set when it is installed.
 */

export interface DataPhoto {
  /** Where it comes from: data set, split, index and class. */
  source: string;
  /** Fashion-MNIST t10k index. */
  index: number;
  /** Its class as a built-in prompt. */
  prompt: string;
  /** 784 bytes, row-major, base64. */
  base64: string;
}

/** The "Campanile": a handbag with a tall handle (its top is what SPEC 1.7.2 fills in). */
export const CAMPANILE: DataPhoto = {
  source: 'Fashion-MNIST t10k #30 (Bag)',
  index: 30,
  prompt: 'a photo of a bag',
  base64:
    'AAAAAAAAAAAAAAAAAAYAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAGV9ZAAACAQEAAAAAAAAAAAAAAAAAAAAAAQAAkNaus9FT' +
    'AAIAAAAAAAAAAAAAAAAAAAAAAAcAkLgAAAAuzT4ABAAAAAAAAAAAAAAAAAAAAAMAQcgAAAAAAECtAAUAAAAAAAAAAAAAAAAAAAAL' +
    'AIxWAAIAAAAAoDQABAAAAAAAAAAAAAAAAAAAAACjAAAAAAACAHRbAAkAAAAAAAAAAAEFBAQDAwAApAAAAQICBwBsjwADAAEBAAAA' +
    'AAAAAAAAAAAAAPYAAAAAAAAAd5sAAAAAAAAAAAEAAC8BBAAAAB//AAAAAAAAAJHXAAAAAAAAAAAAAEXbzL7NvZusx5HCvbm8yp6n' +
    'rn7DspqStT4AAAxSvdLBua670dK/vbWxt7y6ssaaycXSu4cUAAByDKnUwL63u7Gztrm0sr2xysCFu8XDzLtwAAAA9AfE3MnDtKq1' +
    'u7a7ycm9uLjSZs68xMLGqQoAWJ0A4+HVzr6gv8WvtZ+gysPJ4J/UvMLE0bkMAI8qAO7e19rTxbe7ysvO1NXZ6HZ9k9zS1tvTGAC1' +
    'AAD62tjc29XNwcXLzeTJ2cJ8uJS54dLb5x0AvAAA/9fa2tjS1MvI1MfUztbfkn561tvd3PIzALwAHP/T2trY19bQzM/S6NfX49q0' +
    '29/Z4t7/TgC6AEn/0Nra2NbW1tTOztvL39bP4tjT1dTR/2QAuQBr/9DY2djX2dzc1MfHx8vK0M/U2Nvb1f9/AKgAff/K29fb2dja' +
    '2Nna1tHL0NTW1t3h3dv/mgBFf4Hsx9za2dfY29va2tze4N3d3d7f4d/b/5sAAG3u5MvV2tzd4OLi4uTj4+Pl5eTl5Ofn4f+lAAAA' +
    'uPfn3t7h5eXg2t3e3dva29zd3t/i4t/rngAAAKTx4ufn4+Li6Ozo5+fn5+Xl5eTm6enm9cwAAADq8+f///////nW1tjY2NnT0tHT' +
    'yLq3rLlmAAAABDhOWF5YST0AAAAAAAAAAAAAAAAAAAAAAA==',
};

/** First own photo: a pullover with a printed logo. */
export const OWN_PHOTO_1: DataPhoto = {
  source: 'Fashion-MNIST t10k #1 (Pullover)',
  index: 1,
  prompt: 'a photo of a pullover',
  base64:
    'AAAAAAAAAAAAAA1DAAAAADImAAAAAAAAAAAAAAAAAAAAAAAIeNHi9+3////37uusSAAAAAAAAAAAAAAAAACJ7/zz6uXu9Pbw5ujv' +
    '+PvCAAAAAAAAAAAAAABm/+fk4+Tp5ubl5Ojo5+Pg/LMAAAAAAAAAAAAA6fHl5///7ufj7vbk5uPq6+XxFAAAAAAAAAAAAPjx5/+V' +
    'L/zk//LY7uj/5Nzq+jYAAAAAAAAAAAD/8Oj/DwD/7b8AANb/DXv/6vxyAAAAAAAAAAAG/+7v/7EA//8AgnQvQSsl/+z5ogAAAAAA' +
    'AAAAIP/s9f/MAP9UACUcHwAZDf/s+ccAAAAAAAAAADX/7Pr65wL/FQDd/+w29cbz7vXfAAAAAAAAAABQ/+368P8AACedAADXXhR+' +
    '/+3v+gAAAAAAAAAAZf/r/fTzhYrQ/8nW/+YHrv/w7v8AAAAAAAAAAH7/6f/46f//8Ojz8+f7///+8+7/AwAAAAAAAACT/+n5tfPj' +
    '4Obq5ubr5Ovez//s/yMAAAAAAAAAo//13Vb/6enr7Orq6ujy533/7P83AAAAAAAAALX+/8hF/+To6uvq6unr8e1G/+v2OQAAAAAA' +
    'AADF9/+8bv/g6erq6urq6vD9Rf/s+E0AAAAAAAAAyPb/lZH/3+vq6+vr6u3p/y//7/liAAAAAAAAAMzz/2+t/+Pr6+zr6+vv5f8T' +
    '4/b5bgAAAAAAAADE8P9t1frl6+vs6+3s7eL/N8v79XgAAAAAAAAAwPP/cujw6Ovr7Ort7Ovl/4ar/PSJAAAAAAAAAL37/5ru6ezq' +
    '6+zr7uzr6P+mff/zjgAAAAAAAAC3/P+r9+jq6unp6Orp6unw34D/8pcAAAAAAAAAsvP/Oe7x7u7u7ezt7fDt/rA0/++dAAAAAAAA' +
    'ALzw+j7a/9ze3t7f3+De2v+aIP/svAAAAAAAAACC9fIYAAAAAAAAAAAAAAAAACLy9IcAAAAAAAAATP/5FgAAAAAAAAAAAAAAAAAn' +
    '+f97AAAAAAAAADHNxQsABAECAgICAgICAgMAA669QwAAAA==',
};

/** Second own photo: a sneaker. */
export const OWN_PHOTO_2: DataPhoto = {
  source: 'Fashion-MNIST t10k #36 (Sneaker)',
  index: 36,
  prompt: 'a photo of a sneaker',
  base64:
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAJfmCQADAQABAAAAAAAAAAAAAAAAAQAAAH67Vt7I2IoABgAAAE9YAAAAAAAAAAAAAAAAALbx1Ov/2t+m' +
    'AAAAAB/S4QcAAAAAAAAAAAAAHgDF2tu84Obh/HUAAACruKcBAAAAAAUCAAAz9/DG/9jm4Nbe4ejr5JrY38TSFAEBAQEAAAAAq+TY' +
    '29zGy9XW2t/n7v3///+5tnIBAAAAACug79zp7OHh7P//////9MSAMwAAACidAAAjeLbW2tXT2Nv//9Kof1kwAAAAAANWq+f/qAGO' +
    '0uHj08/m6e38YQAAAAAAAAqM6v///vjq5LkaQzQ+VFZlepGxJwACDQgQAl3r6rSMcl9YTlQ0DAUHBAEECAwMEDVZZWdrb3BrSC8y' +
    'My8tKR4aDh0rKSgvMCgfFhIVFBQRGRshHB0iIRUWFBMSEg4ABxMaJiswLi03MTQxNDMxLjQxNi4pLSYiHhwSAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==',
};

/** The photo's pixels in [0, 1], 28x28 row-major. */
export function photoPixels(photo: DataPhoto): Float32Array {
  const bytes = Buffer.from(photo.base64, 'base64');
  if (bytes.length !== 784) throw new Error(`${photo.source}: stored pixels have ${bytes.length} bytes, expected 784 (28x28)`);
  return Float32Array.from(bytes, (b) => b / 255);
}
