/**
 * The web mode's transport: calls are `POST /api/<method>` with a JSON body, events arrive on one WebSocket
 * (`/ws`), both carrying the token from the page's URL. It needs only `fetch` and a WebSocket constructor, so it
 * runs in the browser and in Node tests (pass the `ws` package's WebSocket there).
 */
import type { Reply } from './common.js';
import type { Transport } from './client.js';
import type { SortaEvent } from './events.js';
import { mediaPath, methodNames, TOKEN_HEADER } from './index.js';

/** The part of the WebSocket API we use (the browser's and the `ws` package's both have it). */
export interface WebSocketLike {
  onopen?: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface WebTransportOptions {
  /** The server's origin, e.g. `http://127.0.0.1:5123` (in the browser: `location.origin`). */
  baseUrl: string;
  token: string;
  WebSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  /** Milliseconds before reconnecting a dropped event socket (default 1000). */
  reconnectMs?: number;
}

export interface WebTransport extends Transport {
  /** Closes the event socket and stops reconnecting. */
  close(): void;
}

/** Reads the token the server put in the page's URL (`?token=…`). */
export function tokenFromUrl(url: string): string | null {
  return new URL(url).searchParams.get('token');
}

export function webTransport(options: WebTransportOptions): WebTransport {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const SocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
  const listeners = new Set<(event: SortaEvent) => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  let connected = true;
  const setConnected = (value: boolean) => {
    if (value === connected) return;
    connected = value;
    for (const listener of [...connectionListeners]) listener(value);
  };
  let socket: WebSocketLike | null = null;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    if (closed || socket || !SocketClass) return;
    const url = `${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(options.token)}`;
    const ws = new SocketClass(url);
    socket = ws;
    ws.onmessage = (message) => {
      let event: SortaEvent;
      try {
        event = JSON.parse(String(message.data)) as SortaEvent;
      } catch {
        return;
      }
      for (const listener of [...listeners]) listener(event);
    };
    ws.onopen = () => setConnected(true);
    ws.onerror = () => {};
    ws.onclose = () => {
      socket = null;
      // The event socket is the heartbeat: when it drops (server stopped, network gone), say so and retry.
      if (!closed) setConnected(false);
      if (closed || listeners.size === 0) return;
      retry = setTimeout(connect, options.reconnectMs ?? 1000);
    };
  };

  return {
    methods: methodNames,
    async call(method, input) {
      let response: Response;
      try {
        response = await doFetch(`${base}/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TOKEN_HEADER]: options.token },
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        setConnected(false);
        return {
          ok: false,
          error: {
            code: 'io',
            message: `Disconnected: Sorta's server at ${base} cannot be reached (is \`sorta serve\` still running?).`,
          },
        };
      }
      try {
        return (await response.json()) as Reply;
      } catch {
        return {
          ok: false,
          error: { code: 'internal', message: `Sorta's server answered ${response.status} without a reply.` },
        };
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
      };
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => {
        connectionListeners.delete(listener);
      };
    },
    mediaUrl(ref, variant) {
      return `${base}/${mediaPath(ref, variant)}?token=${encodeURIComponent(options.token)}`;
    },
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
      socket = null;
    },
  };
}
