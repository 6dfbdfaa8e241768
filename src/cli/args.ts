/**
 * Argument parsing shared by the commands: node:util `parseArgs` in strict
 * mode (unknown options are errors), plus number validation that names the
 * option and the value. A `UsageError` makes the CLI print the message and
 * exit with status 2, the convention for bad usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The subcommand whose usage was wrong, so the hint can point to its own --help; undefined for the top level. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(command === undefined ? message : `${command}: ${message}`);
    this.command = command;
  }
}

/** A failure the CLI explains in one sentence (exit status 1, no stack trace): a port in use, a missing process. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Option values by name: strings for `type: 'string'`, booleans for flags, undefined when absent. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/**
 * `--count -1` becomes `--count=-1`: parseArgs would otherwise refuse the
 * value as "ambiguous" (it looks like an option), and the number check could
 * not name the option and the value as it does for every other bad number.
 */
function joinNegativeNumbers(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Parses `args` against `options`; unknown options and stray positionals become a `UsageError`. */
export function parseOptions(command: string, args: readonly string[], options: Options): OptionValues {
  try {
    return parseArgs({ args: joinNegativeNumbers(args, options), options, strict: true, allowPositionals: false }).values as OptionValues;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message, command);
  }
}

/** A number option: `undefined` gives `fallback`; anything not a finite number in [min, max] is a `UsageError`. */
export function numberOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  { min, max = Number.MAX_SAFE_INTEGER, integer = false, what = 'a number' }: { min: number; max?: number; integer?: boolean; what?: string },
): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string') throw new UsageError(`--${name} needs a value`, command);
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`--${name} must be ${what} ${range}, got ${JSON.stringify(raw)}`, command);
  }
  return value;
}
