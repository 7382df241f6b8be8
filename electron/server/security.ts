/**
 * Web mode's gatekeeping: a random token on every API call and WebSocket, and Host / Origin headers that must
 * name this server (a page on another site, or a DNS-rebinding name pointing at 127.0.0.1, cannot talk to it).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { TOKEN_HEADER } from '../contract/index.js';

/** 256 random bits, URL-safe. */
export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensEqual(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of a request: the `x-sorta-token` header, else the `token` query parameter. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers[TOKEN_HEADER];
  if (typeof header === 'string') return header;
  return url.searchParams.get('token');
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function hostLiteral(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host.toLowerCase();
}

/**
 * The `host:port` values a request may name. A server bound to a wildcard address answers for the loopback
 * names and the machine's own interface addresses; one bound to a name or address answers for that (plus the
 * loopback names when it is loopback).
 */
export function allowedHosts(bindHost: string, port: number): Set<string> {
  const names = new Set<string>();
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const loopback = wildcard || ['127.0.0.1', 'localhost', '::1'].includes(bindHost.toLowerCase());
  if (loopback) for (const name of LOOPBACK_NAMES) names.add(name);
  if (!wildcard) names.add(hostLiteral(bindHost));
  else
    for (const list of Object.values(networkInterfaces()))
      for (const entry of list ?? []) names.add(hostLiteral(entry.address.replace(/%.*$/, '')));
  return new Set([...names].map((name) => `${name}:${port}`));
}

/** True when the Host header names this server. */
export function hostAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const host = req.headers.host;
  return typeof host === 'string' && allowed.has(host.toLowerCase());
}

/**
 * True when the request comes from our own page: no Origin (not a browser's cross-site request: browsers send
 * Origin on every cross-origin fetch, POST and WebSocket) or an Origin naming this server over http.
 */
export function originAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || !origin.startsWith('http://')) return false;
  return allowed.has(origin.slice('http://'.length).toLowerCase());
}
