/**
 * The renderer's typed client, independent of the shell: `createClient(transport)` with the Electron transport
 * (`window.sorta`) or the web transport (HTTP + WebSocket). Failures reject with SortaError, code and message
 * as the core threw them.
 */
import { SortaError } from '../shared/errors.js';
import type { SortaEvent, SortaEventType, EventOf } from './events.js';
import {
  ELECTRON_MEDIA_SCHEME,
  mediaPath,
  methodNames,
  type MediaRef,
  type MediaVariant,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type SortaBridge,
} from './index.js';
import type { Reply } from './common.js';

/** How calls and events travel. */
export interface Transport {
  /** The methods this transport can carry (the same list everywhere; tests check it). */
  readonly methods: readonly MethodName[];
  call(method: MethodName, input: unknown): Promise<Reply>;
  subscribe(listener: (event: SortaEvent) => void): () => void;
  mediaUrl(ref: MediaRef, variant: MediaVariant): string;
  /**
   * Tells when the core becomes unreachable (false) and reachable again (true). Web mode only: in Electron the
   * core is a child of the app and the transport never reports a change.
   */
  onConnection?(listener: (connected: boolean) => void): () => void;
}

/** `invoke('project.current')` needs no input; `invoke('labels.set', {...})` does. */
export type InvokeArgs<K extends MethodName> =
  Record<string, never> extends MethodInput<K> ? [input?: MethodInput<K>] : [input: MethodInput<K>];

export interface SortaClient {
  readonly methods: readonly MethodName[];
  invoke<K extends MethodName>(method: K, ...args: InvokeArgs<K>): Promise<MethodOutput<K>>;
  /** Listens to one event type; returns the unsubscribe function. */
  on<T extends SortaEventType>(type: T, listener: (event: EventOf<T>) => void): () => void;
  /** Listens to every event. */
  onAny(listener: (event: SortaEvent) => void): () => void;
  /** URL for an <img src>: a project image or a classified file, as a thumbnail or the original. */
  mediaUrl(ref: MediaRef, variant?: MediaVariant): string;
  /** Listens to the connection to the core: false when it is lost (web mode), true when it is back. */
  onConnection(listener: (connected: boolean) => void): () => void;
}

export function createClient(transport: Transport): SortaClient {
  return {
    methods: transport.methods,
    async invoke(method, ...args) {
      const reply = await transport.call(method, args[0] ?? {});
      if (!reply.ok) throw new SortaError(reply.error.code, reply.error.message);
      return reply.value as never;
    },
    on(type, listener) {
      return transport.subscribe((event) => {
        if (event.type === type) listener(event as EventOf<typeof type>);
      });
    },
    onAny(listener) {
      return transport.subscribe(listener);
    },
    mediaUrl(ref, variant = 'thumb') {
      return transport.mediaUrl(ref, variant);
    },
    onConnection(listener) {
      return transport.onConnection?.(listener) ?? (() => {});
    },
  };
}

/** The Electron transport: the preload's `window.sorta`, images through the `sorta-img:` protocol. */
export function electronTransport(bridge: SortaBridge): Transport {
  return {
    methods: bridge.methods,
    call: (method, input) => bridge.invoke(method, input),
    subscribe: (listener) => bridge.on(listener),
    mediaUrl: (ref, variant) => `${ELECTRON_MEDIA_SCHEME}://${mediaPath(ref, variant)}`,
  };
}

export { methodNames };
