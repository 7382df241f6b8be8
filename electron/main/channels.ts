/** IPC channel names, one per contract method, plus the event channel. No Node or Electron imports. */
import type { MethodName } from '../contract/index.js';

export const EVENT_CHANNEL = 'sorta:event';

export function methodChannel(method: MethodName): string {
  return `sorta:call:${method}`;
}
