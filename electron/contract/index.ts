/**
 * THE contract between the UI and the core: every method (its input schema and output type) and every event.
 * The Electron IPC handlers, the preload's `window.sorta`, the web server's `/api/<method>` routes and the
 * renderer's client are all derived from `contract` below, so they expose exactly the same methods.
 */
import type { z } from 'zod';
import type { MethodSpec, Reply } from './common.js';
import { classMethods } from './classes.js';
import type { SortaEvent } from './events.js';
import { imageMethods } from './images.js';
import { importMethods } from './importing.js';
import { modelMethods } from './models.js';
import { projectMethods } from './project.js';
import { sortMethods } from './sort.js';
import { dialogMethods, systemMethods } from './system.js';
import { trainMethods } from './train.js';
import { weightsMethods } from './weights.js';

export const contract = {
  ...projectMethods,
  ...imageMethods,
  ...classMethods,
  ...importMethods,
  ...weightsMethods,
  ...trainMethods,
  ...modelMethods,
  ...sortMethods,
  ...systemMethods,
  ...dialogMethods,
} satisfies Record<string, MethodSpec>;

export type Contract = typeof contract;
export type MethodName = keyof Contract & string;
/** What the caller passes (defaults still optional). */
export type MethodInput<K extends MethodName> = z.input<Contract[K]['input']>;
/** What the handler receives after validation (defaults filled in). */
export type ParsedInput<K extends MethodName> = z.output<Contract[K]['input']>;
export type MethodOutput<K extends MethodName> = z.output<Contract[K]['output']>;

/** Every method name, at run time, in declaration order. */
export const methodNames = Object.keys(contract) as MethodName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

/** A handler for every method: what electron/app/ builds and both shells serve. */
export type Handlers = { [K in MethodName]: (input: ParsedInput<K>) => Promise<MethodOutput<K>> };

/**
 * The object the Electron preload exposes as `window.sorta`. Replies are envelopes because Electron's
 * ipcRenderer.invoke would turn a rejected error into a plain message and lose its code.
 */
export interface SortaBridge {
  readonly methods: readonly MethodName[];
  invoke(method: MethodName, input: unknown): Promise<Reply>;
  /** Subscribes to every event; returns the unsubscribe function. */
  on(listener: (event: SortaEvent) => void): () => void;
  /** The path of a dropped file or folder (Electron's webUtils.getPathForFile); '' when it has none. */
  pathForFile(file: unknown): string;
}

/** Something the UI shows as a picture: an image of the project, or a file a classify job looked at. */
export type MediaRef = { kind: 'image'; id: number } | { kind: 'prediction'; id: number };
/** `thumb`: ≈256 px WebP from the cache; `full`: the original file. */
export type MediaVariant = 'thumb' | 'full';

/** The path part shared by `sorta-img://media/<kind>/<id>/<variant>` and the web server's `/media/…`. */
export function mediaPath(ref: MediaRef, variant: MediaVariant): string {
  return `media/${ref.kind}/${ref.id}/${variant}`;
}

/** Parses `media/<kind>/<id>/<variant>` (with or without a leading slash); null for anything else. */
export function parseMediaPath(path: string): { ref: MediaRef; variant: MediaVariant } | null {
  const match = /^\/?media\/(image|prediction)\/([1-9][0-9]{0,15})\/(thumb|full)$/.exec(path);
  if (!match) return null;
  return {
    ref: { kind: match[1] as MediaRef['kind'], id: Number(match[2]) },
    variant: match[3] as MediaVariant,
  };
}

export const ELECTRON_MEDIA_SCHEME = 'sorta-img';
/** Header (or `?token=` query parameter) carrying the web mode's token. */
export const TOKEN_HEADER = 'x-sorta-token';

export * from './common.js';
export * from './events.js';
export type * from './project.js';
export type * from './images.js';
export type * from './classes.js';
export type * from './importing.js';
export type * from './weights.js';
export type * from './train.js';
export type * from './models.js';
export type * from './sort.js';
export type * from './system.js';
export { archNames } from './weights.js';
