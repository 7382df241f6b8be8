/**
 * The `sorta` CLI. Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage error (unknown command or
 * option, bad option value).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { packageVersion } from '../shared/package-info.js';
import { reportFailure } from './output.js';
import { UsageError } from './command.js';
import { commandRegistrations } from './commands/index.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('sorta')
    .description('Sort thousands of images into folders by category with a fine-tuned VGG network.')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      // Usage errors are printed once, by main(), as a single line.
      outputError: () => {},
    });
  for (const register of commandRegistrations) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT_OK : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code))
        return EXIT_OK;
      const message = error.message.replace(/^error: /, '').split('\n')[0];
      reportUsage(`${message} (see 'sorta --help')`, json);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof InvalidArgumentError) {
      reportUsage(error.message, json);
      return EXIT_USAGE;
    }
    reportFailure(error, json);
    return EXIT_FAILURE;
  }
}

function reportUsage(message: string, json: boolean): void {
  if (json) process.stdout.write(JSON.stringify({ error: { code: 'usage', message } }) + '\n');
  process.stderr.write(`sorta: ${message}\n`);
}
