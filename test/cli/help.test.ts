import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

// The `diffusion` command's help is generated from its options (commander): every command and
// subcommand answers --help, and the help names what it takes.

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('diffusion --help', function () {
  this.timeout(60_000);

  it('lists every command, and the same with no arguments', () => {
    const help = run('--help');
    assert.equal(help.status, 0);
    for (const command of ['train', 'sample', 'evaluate', 'bench', 'pretrain', 'export', 'import', 'report', 'serve']) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), command);
    }
    assert.match(help.stdout, /DIFFUSION_BACKEND/);
    assert.equal(run().stdout, help.stdout);
  });

  const expected: Array<[string[], string[]]> = [
    [['train'], ['<kind>', '--profile <name>', '--micro-batch <n>', '--no-download', '"denoiser", "time", "class", "all"']],
    [['sample'], ['--run <dir>', '--per-class <n>', '--gif <file>']],
    [['evaluate'], ['ddpm [options]', 'emoji [options]']],
    [
      ['evaluate', 'ddpm'],
      ['--samples-per-class <n>', 'Frechet distance'],
    ],
    [
      ['evaluate', 'emoji'],
      ['--per-subcategory <n>', 'fidelity.json'],
    ],
    [['bench'], ['unets [options]', 'demos [options]']],
    [
      ['bench', 'unets'],
      ['--hidden <list>', '--steps <n>'],
    ],
    [['bench', 'demos'], ['--backends <list>']],
    [['pretrain'], ['digits [options]', 'emoji [options]', 'judge [options]']],
    [
      ['pretrain', 'judge'],
      ['--export', 'src/writeup/judge/weights'],
    ],
    [['export'], ['--torch <source>', '--digits <file>']],
    [['import'], ['--torch-run <dir>']],
    [['report'], ['--only <name>', '-p, --param <name=value>', '--no-execute', '--trust-notebook-html']],
    [['serve'], ['--port <n>', '(default: 8080)']],
  ];
  for (const [command, mentions] of expected) {
    it(`diffusion ${command.join(' ')} --help`, () => {
      const help = run(...command, '--help');
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`^Usage: diffusion ${command.join(' ')} `));
      for (const text of mentions) assert.ok(help.stdout.includes(text), `${text} in:\n${help.stdout}`);
    });
  }

  it('a default subcommand runs without its name: evaluate --run, bench --steps, pretrain --export-only', () => {
    // Each stops at its own first check, which shows the options reached the default subcommand.
    assert.match(run('evaluate', '--run', path.join(__dirname, 'no-such-run')).stderr, /no-such-run/);
    assert.match(run('pretrain', '--export-only').stderr, /--export-only exports an existing run: give its folder with --out DIR/);
    assert.match(run('bench', '--models', 'dragon').stderr, /--models: unknown model "dragon"/);
  });

  it('a usage error found after parsing also exits 2 (report, bench)', () => {
    for (const args of [
      ['report', '--seed', '-1'],
      ['report', '-p', 'retrain'],
      ['report', '--cell-timeout', '0'],
      ['bench', '--models', 'dragon'],
      ['bench', 'demos', '--site', path.join(__dirname, '..', '..', '..', 'test', 'fixtures')], // no try.html there
    ]) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /);
    }
  });
});
