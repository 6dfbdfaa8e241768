/**
 * Argument parsing shared by the commands: node:util `parseArgs` in strict
 * mode (unknown options are errors), plus number validation that names the
 * option and the value. A `UsageError` makes the CLI print the message and
 * exit with status 2, the convention for bad usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Option values by name: strings for `type: 'string'`, booleans for flags, undefined when absent. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** Parses `args` against `options`; unknown options and stray positionals become a `UsageError`. */
export function parseOptions(command: string, args: readonly string[], options: Options): OptionValues {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values as OptionValues;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command}: ${message}`);
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
  if (typeof raw !== 'string') throw new UsageError(`${command}: --${name} needs a value`);
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`${command}: --${name} must be ${what} ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
