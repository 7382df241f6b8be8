/**
 * Builds the handlers both shells serve: one AppContext and every domain's setupX(). The Electron core process
 * adds the real dialogs in main; web mode registers setupNoDialogs.
 */
import type { Handlers, MethodName, SortaEvent } from '../contract/index.js';
import { closeSharedImagePool } from '../store/image-pool.js';
import { setupClasses } from './class-handlers.js';
import { AppContext } from './context.js';
import { setupImages } from './image-handlers.js';
import { setupImport } from './import-handlers.js';
import { setupMedia, type MediaResolver } from './media.js';
import { setupProject } from './project-handlers.js';
import { createRegistry, type Registry } from './registry.js';
import { setupSort } from './sort-handlers.js';
import { setupNoDialogs, setupSystem } from './system-handlers.js';
import { countModels, setupTrain } from './train-handlers.js';
import { setupWeights } from './weights-handlers.js';

export interface AppOptions {
  mode: 'electron' | 'web';
  dataDir: string;
  emit: (event: SortaEvent) => void;
  /** Registers handlers the shell provides itself (Electron's native dialogs). */
  extraSetup?: (registry: Registry, ctx: AppContext) => void;
}

export interface App {
  ctx: AppContext;
  handlers: Handlers;
  /** Methods some domain registered (the rest answer `unsupported`); tests check it is all of them. */
  registered: MethodName[];
  resolveMedia: MediaResolver;
  /** Cancels jobs, closes the project and stops worker pools. */
  shutdown(): Promise<void>;
}

export function createApp(options: AppOptions): App {
  const ctx = new AppContext(options);
  const registry = createRegistry();
  setupProject(registry, ctx, countModels);
  setupImages(registry, ctx);
  setupClasses(registry, ctx);
  setupImport(registry, ctx);
  setupWeights(registry, ctx);
  setupTrain(registry, ctx);
  setupSort(registry, ctx);
  setupSystem(registry, ctx);
  if (options.extraSetup) options.extraSetup(registry, ctx);
  else setupNoDialogs(registry);
  const resolveMedia = setupMedia(ctx);
  return {
    ctx,
    handlers: registry.handlers(),
    registered: registry.registered(),
    resolveMedia,
    async shutdown() {
      await ctx.jobs.cancelAndWait();
      ctx.close();
      await closeSharedImagePool();
    },
  };
}
