/**
 * A resumable HTTP(S) download into a `.part` file. The part file's validators (ETag / Last-Modified) and total
 * size are kept beside it, so an interrupted transfer — in this process or a later run — continues with
 * `Range: bytes=N-` and `If-Range`, and starts over when the server ignores the range (200) or the file changed.
 * Redirects are followed; progress is reported; an AbortSignal cancels (the part file stays for a later resume).
 * Verifying and installing the result is the caller's job.
 */
import { createWriteStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile, rename } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, describeFsError, SortaError } from './errors.js';

export interface DownloadProgress {
  /** Bytes in the part file so far, including any resumed from an earlier transfer. */
  bytes: number;
  /** Total size when the server said it; null otherwise. */
  total: number | null;
  /** Average rate of this transfer (bytes/s), not counting resumed bytes. */
  bytesPerSecond: number;
}

export interface ResumableDownloadOptions {
  url: string;
  partPath: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** How many times an interrupted transfer is resumed within this call (default 3). */
  retries?: number;
  retryDelayMs?: number;
  /** A stalled connection is dropped (and resumed) after this long without data (default 60 s). */
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

export interface DownloadResult {
  bytes: number;
  total: number | null;
  finalUrl: string;
  etag: string | null;
  /** HTTP requests made, redirects included. */
  requests: number;
  /** True when some of the bytes came from an earlier, interrupted transfer. */
  resumed: boolean;
}

/** Kept in `<part>.json`: what the part file's bytes belong to. */
interface PartState {
  url: string;
  etag: string | null;
  lastModified: string | null;
  total: number | null;
}

const PROGRESS_INTERVAL_MS = 100;

export async function downloadResumable(options: ResumableDownloadOptions): Promise<DownloadResult> {
  const { url, partPath, signal } = options;
  const retries = options.retries ?? 3;
  const statePath = `${partPath}.json`;
  let requests = 0;
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new CancelledError(`download of ${url} cancelled`);
    // Restarts after a bad range also count, so a misbehaving server cannot keep us looping.
    if (attempt > retries + 2)
      throw new SortaError('io', `cannot download ${url}: the server keeps sending unusable responses`);
    let state = await readState(statePath);
    let offset = state?.url === url ? await fileSize(partPath) : 0;
    if (offset === 0) state = null;
    if (state && state.total !== null && offset > state.total) offset = 0; // cannot be ours: start over

    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'Sorta' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      // If-Range needs a strong validator; without one the caller's verification catches a changed file.
      const validator = state?.etag && !state.etag.startsWith('W/') ? state.etag : state?.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    let response: IncomingMessage;
    let finalUrl: string;
    try {
      ({ response, finalUrl, requests: requests } = await follow(url, headers, options, requests));
    } catch (error) {
      if (isAbort(error, signal)) throw new CancelledError(`download of ${url} cancelled`);
      if (attempt < retries) {
        await sleep(options.retryDelayMs ?? 1000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      throw new SortaError('io', `cannot download ${url}: ${(error as Error).message}`, { cause: error });
    }

    const status = response.statusCode ?? 0;
    let start = 0;
    let total: number | null = null;
    if (status === 206) {
      const range = parseContentRange(response.headers['content-range']);
      if (!range || range.start !== offset) {
        // Not the range we asked for: start over with a plain request.
        response.destroy();
        await rm(partPath, { force: true });
        continue;
      }
      start = offset;
      total = range.total;
      resumed = offset > 0;
    } else if (status === 200) {
      // A server that ignores Range (or an If-Range that no longer matches) sends the whole file.
      const length = Number(response.headers['content-length']);
      total = Number.isFinite(length) && response.headers['content-length'] !== undefined ? length : null;
      resumed = false;
    } else if (status === 416 && offset > 0) {
      response.resume();
      const range = parseContentRange(response.headers['content-range']);
      if (range?.total === offset && state?.total === offset) {
        return { bytes: offset, total: offset, finalUrl, etag: state.etag, requests, resumed: true };
      }
      await rm(partPath, { force: true });
      continue;
    } else {
      response.resume();
      const reason = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
      if (status >= 500 && attempt < retries) {
        await sleep(options.retryDelayMs ?? 1000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      throw new SortaError(
        status === 404 || status === 410 ? 'not-found' : 'io',
        `cannot download ${url}: ${reason}`,
      );
    }

    const etag = headerValue(response.headers.etag);
    const newState: PartState = {
      url,
      etag,
      lastModified: headerValue(response.headers['last-modified']),
      total,
    };
    await writeState(statePath, newState);

    const bytes = await receive(response, partPath, start, total, options).catch(async (error: unknown) => {
      if (isAbort(error, signal)) throw new CancelledError(`download of ${url} cancelled`);
      return error as Error;
    });
    if (typeof bytes === 'number') {
      if (total === null || bytes === total) {
        await rm(statePath, { force: true });
        return { bytes, total: total ?? bytes, finalUrl, etag, requests, resumed };
      }
      if (bytes > total) {
        await rm(partPath, { force: true });
        throw new SortaError(
          'io',
          `cannot download ${url}: the server sent more than the ${total} bytes it announced`,
        );
      }
    }
    // Interrupted: the part file and its state stay, so the next attempt (or a later run) resumes.
    if (attempt >= retries) {
      const got = await fileSize(partPath);
      throw new SortaError(
        'io',
        `download of ${url} was interrupted after ${got} of ${total ?? '?'} bytes` +
          `${typeof bytes === 'number' ? '' : ` (${bytes.message})`}; run it again to resume`,
      );
    }
    await sleep(options.retryDelayMs ?? 1000, undefined, { signal }).catch(() => undefined);
  }
}

/** Streams the body into the part file from `start`; resolves with the file's size once the body ended. */
async function receive(
  response: IncomingMessage,
  partPath: string,
  start: number,
  total: number | null,
  options: ResumableDownloadOptions,
): Promise<number> {
  let bytes = start;
  const began = Date.now();
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    const seconds = Math.max((now - began) / 1000, 1e-3);
    options.onProgress({ bytes, total, bytesPerSecond: (bytes - start) / seconds });
  };
  const file = createWriteStream(partPath, { flags: start > 0 ? 'r+' : 'w', start });
  // Not stream.pipeline: on a dropped connection it destroys the file stream and loses the bytes still queued for
  // writing. Here every received byte is written and flushed before the failure is reported, so a resume continues
  // exactly where the data on disk ends.
  const failure = await new Promise<Error | null>((resolve) => {
    let error: Error | null = null;
    let ended = false;
    const stop = (reason: Error) => {
      if (ended) return;
      ended = true;
      error = reason;
      file.end();
    };
    response.on('data', (chunk: Buffer) => {
      if (ended) return;
      bytes += chunk.length;
      if (!file.write(chunk)) {
        response.pause();
        file.once('drain', () => response.resume());
      }
      report(false);
    });
    response.on('end', () => {
      if (ended) return;
      ended = true;
      // A server that closes early without an error still ends the response: `complete` tells.
      if (!response.complete) error = new Error('the connection closed before the end of the file');
      file.end();
    });
    response.on('error', (reason) => stop(reason));
    response.on('close', () => stop(new Error('the connection closed before the end of the file')));
    file.on('error', (reason) => {
      error = new SortaError('io', `cannot write ${partPath}: ${describeFsError(reason)}`, { cause: reason });
      ended = true;
      response.destroy();
      resolve(error);
    });
    file.on('close', () => resolve(error));
    const onAbort = () => {
      const reason = new Error('aborted');
      reason.name = 'AbortError';
      stop(reason);
      response.destroy();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    file.on('close', () => options.signal?.removeEventListener('abort', onAbort));
  });
  if (failure instanceof SortaError) throw failure;
  await syncFile(partPath);
  if (failure) throw failure;
  report(true);
  return bytes;
}

async function follow(
  url: string,
  headers: Record<string, string>,
  options: ResumableDownloadOptions,
  requests: number,
): Promise<{ response: IncomingMessage; finalUrl: string; requests: number }> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const response = await get(current, headers, options);
    requests++;
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location) {
      response.resume();
      if (hop >= (options.maxRedirects ?? 10))
        throw new Error(`more than ${options.maxRedirects ?? 10} redirects`);
      current = new URL(location, current);
      continue;
    }
    return { response, finalUrl: current.href, requests };
  }
}

function get(
  url: URL,
  headers: Record<string, string>,
  options: ResumableDownloadOptions,
): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, signal: options.signal }, resolve);
    req.setTimeout(options.idleTimeoutMs ?? 60_000, () =>
      req.destroy(new Error(`no data for ${Math.round((options.idleTimeoutMs ?? 60_000) / 1000)} s`)),
    );
    req.on('error', reject);
    req.end();
  });
}

function parseContentRange(value: string | undefined): { start: number; total: number | null } | null {
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!match) return null;
  return {
    start: match[1] === undefined ? -1 : Number(match[1]),
    total: match[3] === '*' ? null : Number(match[3]),
  };
}

function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return Boolean(signal?.aborted) || (error as Error)?.name === 'AbortError';
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readState(path: string): Promise<PartState | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartState;
  } catch {
    return null;
  }
}

async function writeState(path: string, state: PartState): Promise<void> {
  try {
    await writeFile(`${path}.tmp`, JSON.stringify(state));
    await rename(`${path}.tmp`, path);
  } catch (error) {
    throw new SortaError('io', `cannot write ${path}: ${describeFsError(error)}`, { cause: error });
  }
}
