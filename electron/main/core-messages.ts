/** Messages between the Electron main process and the core's utility process: one tagged union each way. */
import type { MediaRef, MediaVariant, MethodName, Reply, SortaEvent } from '../contract/index.js';
import type { SerializedError } from '../shared/errors.js';

export type ToCore =
  | { type: 'call'; id: number; method: MethodName; input: unknown }
  | { type: 'media'; id: number; ref: MediaRef; variant: MediaVariant }
  | { type: 'shutdown' };

export type FromCore =
  | { type: 'ready' }
  | { type: 'reply'; id: number; reply: Reply }
  | {
      type: 'media';
      id: number;
      file: { path: string; contentType: string | null } | null;
      error: SerializedError | null;
    }
  | { type: 'event'; event: SortaEvent };
