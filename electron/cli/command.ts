import type { Command } from 'commander';
import { createOutput, type Output } from './output.js';

/** What every command action receives: its positional arguments, its options, and where to write. */
export interface CommandContext<O> {
  args: string[];
  opts: O & { json?: boolean };
  out: Output;
}

/**
 * Adds `--json` to a command and wraps its action so that it receives a ready Output. Errors propagate to
 * `main`, which prints the one-line failure and sets the exit code.
 */
export function defineAction<O>(
  command: Command,
  handler: (ctx: CommandContext<O>) => Promise<void>,
): Command {
  return command
    .option('--json', 'print exactly one JSON document on stdout (progress and logs go to stderr)')
    .action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      const opts = self.opts() as O & { json?: boolean };
      await handler({ args: self.args, opts, out: createOutput(Boolean(opts.json)) });
    });
}

/** Parses an integer option, refusing anything else with a usage error. */
export function parseIntOption(name: string, min = Number.MIN_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(
        `${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, got '${value}'`,
      );
    return n;
  };
}

export function parseFloatOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`${name} must be a number from ${min} to ${max}, got '${value}'`);
    return n;
  };
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}
