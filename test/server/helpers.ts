/** A real web-mode server over real app handlers, a temp project folder, and raw HTTP helpers for tests. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../electron/app/create-app.js';
import { WebSocket } from 'ws';
import { createClient, type SortaClient } from '../../electron/contract/client.js';
import type { SortaEvent } from '../../electron/contract/index.js';
import {
  webTransport,
  type WebSocketFactory,
  type WebTransport,
} from '../../electron/contract/web-transport.js';
import { startWebServer, type WebServer } from '../../electron/server/server.js';

export interface Harness {
  dir: string;
  staticDir: string;
  /** A file beside the static root that must never be served. */
  secret: string;
  app: App;
  server: WebServer;
  base: string;
  close(): Promise<void>;
}

export const SECRET_TEXT = 'top secret, outside the renderer folder';

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sorta-web-'));
  const staticDir = join(dir, 'renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Sorta</title><div id="app"></div>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("sorta");');
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, SECRET_TEXT);
  // Symlinks inside the root that point out of it: a file and a folder.
  symlinkSync(secret, join(staticDir, 'link-file.txt'));
  symlinkSync(dir, join(staticDir, 'link-dir'));
  let server: WebServer | null = null;
  const app = createApp({
    mode: 'web',
    dataDir: join(dir, 'data'),
    emit: (event: SortaEvent) => server?.broadcast(event),
  });
  server = await startWebServer({
    handlers: app.handlers,
    resolveMedia: app.resolveMedia,
    staticDir,
    host: '127.0.0.1',
    port: 0,
  });
  const started = server;
  return {
    dir,
    staticDir,
    secret,
    app,
    server: started,
    base: `http://127.0.0.1:${started.port}`,
    async close() {
      await started.close();
      await app.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (Host included), through node:http. */
export function httpRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        setHost: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Sends a request line byte for byte over a socket, so that no client library normalises the path
 * (`/../x`, backslashes, NUL bytes reach the server as written).
 */
export function rawRequest(port: number, target: string, host = `127.0.0.1:${port}`): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const [statusLine, ...headerLines] = (head ?? '').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine?.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(
      Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1'),
    );
  });
}

/** The renderer's own web client on the harness's server, recording every event it receives. */
export async function connectWebClient(
  h: Harness,
): Promise<{ transport: WebTransport; api: SortaClient; events: SortaEvent[] }> {
  const transport = webTransport({
    baseUrl: h.base,
    token: h.server.token,
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  const api = createClient(transport);
  const events: SortaEvent[] = [];
  api.onAny((event) => events.push(event));
  // The socket is open once the server's first broadcast reaches us; give it a moment to connect.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { transport, api, events };
}
