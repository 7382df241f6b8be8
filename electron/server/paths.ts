import { fileURLToPath } from 'node:url';

/**
 * The built renderer: `dist/renderer`. From the compiled `dist/electron/server/paths.js` that is `../../renderer`;
 * from the TypeScript source (`electron/server/paths.ts`, under tsx) it is `../../dist/renderer`.
 */
export function rendererDir(): string {
  const relative = import.meta.url.endsWith('.ts') ? '../../dist/renderer/' : '../../renderer/';
  return fileURLToPath(new URL(relative, import.meta.url));
}
