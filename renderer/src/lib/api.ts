/**
 * The one client the screens use. In Electron the preload exposes `window.sorta`; in a browser (`sorta serve`) calls
 * go over HTTP and events over a WebSocket, with the token the server put in the page's URL.
 */
import { createClient, electronTransport, type SortaClient } from '../../../electron/contract/client.js';
import type { SortaBridge } from '../../../electron/contract/index.js';
import { tokenFromUrl, webTransport } from '../../../electron/contract/web-transport.js';

export type { SortaClient };

export function connect(): SortaClient {
  const bridge = (window as unknown as { sorta?: SortaBridge }).sorta;
  if (bridge) return createClient(electronTransport(bridge));
  return createClient(webTransport({ baseUrl: location.origin, token: tokenFromUrl(location.href) ?? '' }));
}

/** A job id the caller chooses, so it can cancel the job and match its events before the call returns. */
export function newJobId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
