import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The URL of a module that sits beside `fromUrl`, with the caller's extension: `.ts` under tsx (tests, benchmarks),
 * `.js` when built into dist/.
 */
export function siblingModuleUrl(fromUrl: string, baseName: string): URL {
  const extension = fromUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${extension}`, fromUrl);
}

/**
 * Starts the worker module `baseName` that sits beside `fromUrl`. Under tsx, Node 20 workers do not inherit the
 * TypeScript loader, so a `.ts` worker is started through a one-line bootstrap that registers tsx first.
 */
export function startSiblingWorker(fromUrl: string, baseName: string, options: WorkerOptions = {}): Worker {
  const url = siblingModuleUrl(fromUrl, baseName);
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); ` +
    `return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
