import { strict as assert } from 'assert';
import * as path from 'path';
import { OUTPUTS_ENV_VAR, outputsPath } from '../../src/lib/io/outputs';
import { trainConfigFor } from '../../src/writeup/profiles';
import { defaultRunDir } from '../../src/lib/train/trainer';

describe('outputs folder', () => {
  const saved = process.env[OUTPUTS_ENV_VAR];
  afterEach(() => {
    if (saved === undefined) delete process.env[OUTPUTS_ENV_VAR];
    else process.env[OUTPUTS_ENV_VAR] = saved;
  });

  it('is outputs/ under the working directory by default, and what DIFFUSION_OUTPUTS names otherwise', () => {
    delete process.env[OUTPUTS_ENV_VAR];
    assert.equal(outputsPath('runs', 'a'), path.join('outputs', 'runs', 'a'));
    process.env[OUTPUTS_ENV_VAR] = '  ';
    assert.equal(outputsPath('judge'), path.join('outputs', 'judge'));
    process.env[OUTPUTS_ENV_VAR] = '/tmp/elsewhere';
    assert.equal(outputsPath('judge'), path.join('/tmp/elsewhere', 'judge'));
  });

  it("holds the training runs by default (so the tests never write into a user's outputs/)", () => {
    process.env[OUTPUTS_ENV_VAR] = '/tmp/elsewhere';
    const config = trainConfigFor('time', 'smoke', {});
    assert.equal(defaultRunDir(config, 'abc'), path.join('/tmp/elsewhere', 'runs', 'time-abc'));
  });
});
