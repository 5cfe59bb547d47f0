import * as path from 'path';
import { projectRoot } from '../lib/versions';

/**
 * The path of a data file kept beside the writeup's code (input images, the judge's weights). The
 * writeup runs only from a clone, compiled in place by the notebook kernel or into dist/, so the
 * file is always under the clone's src/writeup.
 */
export function writeupFile(...parts: string[]): string {
  return path.join(projectRoot(), 'src', 'writeup', ...parts);
}
