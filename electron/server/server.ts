/**
 * `sorta serve`: the same UI and the same contract over HTTP + WebSocket, for a browser on this machine.
 *
 *   GET  /, /assets/…            the built renderer (dist/renderer), nothing else
 *   POST /api/<method>           JSON in, Reply JSON out          (token, Host, Origin checked)
 *   GET  /media/<kind>/<id>/<v>  thumbnails / originals of files registered in the open project (token, Host)
 *   GET  /ws                     WebSocket of SortaEvents          (token, Host, Origin checked)
 *
 * No CORS headers are ever sent, so no other site can read an answer even if it guessed everything else.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  parseMediaPath,
  type Handlers,
  type MediaRef,
  type MediaVariant,
  type Reply,
  type SortaEvent,
} from '../contract/index.js';
import type { ErrorCode } from '../shared/errors.js';
import { serializeError, SortaError } from '../shared/errors.js';
import { dispatch } from '../app/registry.js';
import {
  allowedHosts,
  createToken,
  hostAllowed,
  originAllowed,
  requestToken,
  tokensEqual,
} from './security.js';
import { contentTypeOf, StaticRoot } from './static-files.js';

export interface MediaFile {
  path: string;
  contentType?: string;
}

export interface WebServerOptions {
  handlers: Handlers;
  /** Finds the file behind a media URL; throws SortaError('not-found') for anything not in the open project. */
  resolveMedia: (ref: MediaRef, variant: MediaVariant) => Promise<MediaFile>;
  /** The built renderer folder (dist/renderer). */
  staticDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly token: string;
  /** Sends an event to every connected page. */
  broadcast(event: SortaEvent): void;
  close(): Promise<void>;
}

/** Biggest API request body: a labels.set for a million images fits. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  usage: 400,
  'invalid-input': 400,
  'invalid-weights': 400,
  'not-found': 404,
  unsupported: 501,
  conflict: 409,
  cancelled: 409,
  io: 500,
  database: 500,
  internal: 500,
};

export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ws://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function baseHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The page URL carries the token: never send it anywhere as a Referer.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  const reply: Reply = { ok: false, error: { code, message } };
  sendJson(res, status, reply);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new SortaError(
        'io',
        `Port ${port} on ${host} is in use; choose another with --port (0 picks a free one).`,
      );
    case 'EACCES':
      return new SortaError('io', `Not allowed to listen on ${where}; use a port above 1023 (or --port 0).`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new SortaError(
        'invalid-input',
        `Cannot listen on ${where}: ${host} is not an address of this machine.`,
      );
    default:
      return error;
  }
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? createToken();
  const staticRoot = new StaticRoot(options.staticDir);
  let allowed = new Set<string>();

  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    if (req.method !== 'POST') return sendError(res, 405, 'usage', 'API calls are POST requests.');
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json(;|$)/i.test(type))
      return sendError(res, 415, 'usage', 'API calls send application/json.');
    let input: unknown;
    try {
      const body = await readBody(req);
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      return sendError(res, 400, 'invalid-input', 'The request body is not JSON (or is over 16 MB).');
    }
    const reply = await dispatch(options.handlers, method, input);
    sendJson(res, reply.ok ? 200 : STATUS_BY_CODE[reply.error.code], reply);
  };

  const handleMedia = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const media = parseMediaPath(path);
    if (!media) return sendError(res, 404, 'not-found', 'No such media.');
    let file: MediaFile;
    try {
      file = await options.resolveMedia(media.ref, media.variant);
    } catch (error) {
      const { code, message } = serializeError(error);
      return sendError(res, STATUS_BY_CODE[code], code, message);
    }
    serveFile(req, res, file.path, file.contentType ?? contentTypeOf(file.path), 'private, max-age=60');
  };

  const serveFile = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    contentType: string,
    cacheControl: string,
  ) => {
    let size: number;
    try {
      const stats = statSync(path);
      if (!stats.isFile()) throw new Error('not a file');
      size = stats.size;
    } catch {
      return sendError(res, 404, 'not-found', 'The file is gone.');
    }
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': size,
      'Cache-Control': cacheControl,
    });
    if (req.method === 'HEAD') return res.end();
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const server: Server = createServer((req, res) => {
    baseHeaders(res);
    const rawUrl = req.url ?? '/';
    if (!hostAllowed(req, allowed))
      return sendError(
        res,
        421,
        'usage',
        'This server answers only to its own address (Host header refused).',
      );
    if (!originAllowed(req, allowed))
      return sendError(res, 403, 'usage', 'Requests from other sites are refused (Origin header).');
    // The raw path, before the query: never normalised by Node, so what we check is what we got.
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    if (!rawPath.startsWith('/')) return sendError(res, 400, 'usage', 'Bad request path.');
    const url = new URL(rawUrl.startsWith('//') ? '/' : rawUrl, 'http://server');

    const isApi = rawPath.startsWith('/api/');
    const isMedia = rawPath.startsWith('/media/');
    if (isApi || isMedia) {
      if (!tokensEqual(token, requestToken(req, url)))
        return sendError(
          res,
          401,
          'usage',
          'Missing or wrong token: open the address `sorta serve` printed.',
        );
      if (isApi) return void handleApi(req, res, rawPath.slice('/api/'.length));
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(res, 405, 'usage', 'Media are read with GET.');
      return void handleMedia(req, res, rawPath);
    }

    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(res, 405, 'usage', 'Method not allowed.');
    const file = staticRoot.resolve(rawPath);
    if (!file) {
      if (rawPath === '/' && !staticRoot.available) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
        return res.end('The Sorta UI is not built: run `npm run build` in the Sorta folder, then reload.\n');
      }
      return sendError(res, 404, 'not-found', 'Not found.');
    }
    // The Host header was checked above: the policy names the address the page was opened with.
    if (file.contentType.startsWith('text/html'))
      res.setHeader('Content-Security-Policy', contentSecurityPolicy(String(req.headers.host)));
    serveFile(
      req,
      res,
      file.path,
      file.contentType,
      file.path.endsWith('index.html') ? 'no-store' : 'no-cache',
    );
  });
  server.requestTimeout = 0;

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl.startsWith('//') ? '/' : rawUrl, 'http://server');
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req, allowed)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(req, allowed)) return refuse(403, 'Forbidden');
    if (!tokensEqual(token, requestToken(req, url))) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // The page only listens; anything it sends is ignored.
      ws.on('message', () => {});
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port ?? 0));
    server.once('error', failed);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(host, port);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const hostForUrl = `${urlHost}:${port}`;

  const heartbeat = setInterval(() => {
    for (const ws of sockets) ws.ping();
  }, 30_000);
  heartbeat.unref();

  return {
    url: `http://${hostForUrl}/?token=${token}`,
    port,
    host,
    token,
    broadcast(event) {
      const text = JSON.stringify(event);
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    close() {
      clearInterval(heartbeat);
      for (const ws of sockets) ws.close(1001, 'server closing');
      return new Promise<void>((resolve) => {
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
