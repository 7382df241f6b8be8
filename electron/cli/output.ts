import { serializeError } from '../shared/errors.js';

/**
 * How a command talks: with `--json`, exactly one JSON document on stdout and everything else (progress, logs)
 * on stderr; without it, human text on stdout and progress on stderr.
 */
export interface Output {
  json: boolean;
  /** The command's result: a JSON document with --json, else the human rendering. */
  result(value: unknown, human?: string): void;
  /** Progress and logs: always stderr, so stdout stays one JSON document. */
  log(line: string): void;
  /** A progress line that overwrites itself on a terminal. */
  progress(line: string): void;
}

export function createOutput(json: boolean): Output {
  const stderrIsTty = Boolean(process.stderr.isTTY);
  let progressShown = false;
  const endProgress = () => {
    if (progressShown && stderrIsTty) process.stderr.write('\n');
    progressShown = false;
  };
  return {
    json,
    result(value, human) {
      endProgress();
      if (json) process.stdout.write(JSON.stringify(value) + '\n');
      else process.stdout.write((human ?? JSON.stringify(value, null, 2)) + '\n');
    },
    log(line) {
      endProgress();
      process.stderr.write(line + '\n');
    },
    progress(line) {
      if (stderrIsTty) {
        process.stderr.write('\r\x1b[2K' + line);
        progressShown = true;
      } else {
        process.stderr.write(line + '\n');
      }
    },
  };
}

/** The one line a failed command prints on stderr (and, with --json, its JSON form on stdout). */
export function reportFailure(error: unknown, json: boolean): void {
  const { code, message } = serializeError(error);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n');
  process.stderr.write(`sorta: ${message}\n`);
  if (code === 'internal' && process.env.SORTA_DEBUG && error instanceof Error) {
    process.stderr.write((error.stack ?? '') + '\n');
  }
}

export function formatRate(count: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
  return `${rate.toFixed(1)}/s`;
}
