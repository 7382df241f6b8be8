/**
 * Building blocks shared by every domain of the contract. This folder is plain TypeScript + zod with no Node or
 * DOM imports: the Electron main process, the preload, the web server and the renderer all import it.
 */
import { z } from 'zod';
import type { SerializedError } from '../shared/errors.js';

export type { ErrorCode, SerializedError } from '../shared/errors.js';

/** A database row id (images, classes, models, jobs in the project). */
export const rowId = z.number().int().positive();

/** An absolute or user-typed path on the machine running the core (validated and resolved by the handler). */
export const pathString = z.string().min(1).max(4096);

/**
 * Id of a running job, chosen by the caller so that it can cancel (`jobs.cancel`) and match events before the
 * call resolves. Any short token: `crypto.randomUUID()` is fine. When omitted, the handler picks one and
 * announces it in the `job.started` event.
 */
export const jobIdInput = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'job ids use letters, digits and _.:- only');

/** The input of a method that takes nothing. */
export const noInput = z.strictObject({});

/**
 * One method: the zod schema its input is validated with (in main, in the web server) and its output type.
 * Outputs are produced by our own handlers, so they are typed but not validated at run time.
 */
export interface MethodSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  input: I;
  output: z.ZodType<O>;
  /** Only the Electron shell implements it (native dialogs); the web server answers `unsupported`. */
  electronOnly?: true;
}

export function method<O>() {
  return <I extends z.ZodType>(input: I, options: { electronOnly?: true } = {}): MethodSpec<I, O> => ({
    input,
    output: z.custom<O>(),
    ...options,
  });
}

/** What crosses IPC and HTTP for every call: never a thrown Error, always this envelope. */
export type Reply<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** Long work is a job: it reports `job.*` events and can be cancelled with `jobs.cancel`. */
export type JobKind = 'import' | 'thumbnails' | 'weights' | 'train' | 'classify' | 'sort' | 'undo' | 'export';

export type Path = string;
