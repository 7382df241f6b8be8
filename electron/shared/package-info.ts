import { readFileSync } from 'node:fs';

/** Sorta's version from package.json: electron/shared/*.ts under tsx, dist/electron/shared/*.js when built. */
export function packageVersion(): string {
  try {
    const url = new URL(
      import.meta.url.endsWith('.ts') ? '../../package.json' : '../../../package.json',
      import.meta.url,
    );
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
