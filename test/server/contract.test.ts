/**
 * One method list everywhere: the contract, the preload's `window.sorta` (the real bundled preload file), the
 * IPC handlers in main, the web client and the web server's routes expose exactly the same methods.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'vite';
import { createClient, electronTransport } from '../../electron/contract/client.js';
import { contract, methodNames, type MethodName, type SortaBridge } from '../../electron/contract/index.js';
import { webTransport } from '../../electron/contract/web-transport.js';
import { createBridge, type IpcRendererLike } from '../../electron/main/bridge.js';
import { EVENT_CHANNEL, methodChannel } from '../../electron/main/channels.js';
import { registerIpc, type IpcMainLike, type InvokeEventLike } from '../../electron/main/ipc.js';
import { httpRequest, startHarness, type Harness } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Records what the preload does with ipcRenderer. */
function recordingIpcRenderer() {
  const invoked: { channel: string; args: unknown[] }[] = [];
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  const ipc: IpcRendererLike = {
    async invoke(channel, ...args) {
      invoked.push({ channel, args });
      return { ok: true, value: channel };
    },
    on(channel, listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
    },
  };
  return { ipc, invoked, listeners };
}

describe('the contract', () => {
  it('lists every method once, each with an input schema and an output type', () => {
    assert.deepEqual(methodNames, Object.keys(contract));
    assert.equal(new Set(methodNames).size, methodNames.length);
    assert.ok(methodNames.length >= 40, `only ${methodNames.length} methods`);
    for (const name of methodNames) {
      assert.match(name, /^[a-z]+\.[a-zA-Z]+$/, name);
      assert.equal(typeof contract[name].input.safeParse, 'function', name);
      assert.equal(typeof contract[name].output.safeParse, 'function', name);
    }
  });
});

describe('the web client', () => {
  it('exposes exactly the contract methods', () => {
    const transport = webTransport({ baseUrl: 'http://127.0.0.1:1', token: 't' });
    assert.deepEqual([...transport.methods], methodNames);
    assert.deepEqual([...createClient(transport).methods], methodNames);
  });
});

describe('the preload', () => {
  it('createBridge exposes exactly the contract methods, each on its own channel', async () => {
    const { ipc, invoked } = recordingIpcRenderer();
    const bridge = createBridge(ipc);
    assert.deepEqual([...bridge.methods], methodNames);
    assert.deepEqual(Object.keys(bridge).sort(), ['invoke', 'methods', 'on', 'pathForFile']);
    for (const method of methodNames) await bridge.invoke(method, {});
    assert.deepEqual(
      invoked.map((call) => call.channel),
      methodNames.map(methodChannel),
    );
    const unknown = await bridge.invoke('fs.delete' as MethodName, {});
    assert.equal(unknown.ok, false);
    assert.equal(invoked.length, methodNames.length, 'an unknown method must not reach ipcRenderer');
    const client = createClient(electronTransport(bridge));
    assert.deepEqual([...client.methods], methodNames);
  });

  let outDir: string;
  let bundle: string;
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'sorta-preload-'));
    await build({
      configFile: join(REPO, 'vite.preload.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: false },
    });
    bundle = readFileSync(join(outDir, 'preload.cjs'), 'utf8');
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('the bundled preload needs only electron and exposes only window.sorta: the contract methods, events, dropped paths', async () => {
    const required: string[] = [];
    const exposed = new Map<string, SortaBridge>();
    const { ipc, invoked, listeners } = recordingIpcRenderer();
    const electron = {
      contextBridge: { exposeInMainWorld: (name: string, api: SortaBridge) => exposed.set(name, api) },
      ipcRenderer: ipc,
      webUtils: { getPathForFile: (file: { name: string }) => `/${file.name}/folder` },
    };
    const module = { exports: {} };
    runInNewContext(bundle, {
      require: (name: string) => {
        required.push(name);
        if (name !== 'electron') throw new Error(`sandboxed preloads cannot require ${name}`);
        return electron;
      },
      module,
      exports: module.exports,
    });
    assert.deepEqual(required, ['electron']);
    assert.deepEqual([...exposed.keys()], ['sorta']);
    const sorta = exposed.get('sorta')!;
    assert.deepEqual(Object.keys(sorta).sort(), ['invoke', 'methods', 'on', 'pathForFile']);
    assert.equal(sorta.pathForFile({ name: 'dropped' }), '/dropped/folder');
    assert.deepEqual([...sorta.methods], methodNames);
    const reply = await sorta.invoke('labels.set', { imageIds: [1], classId: 2 });
    assert.deepEqual(reply, { ok: true, value: methodChannel('labels.set') });
    assert.deepEqual(invoked.at(-1), {
      channel: methodChannel('labels.set'),
      args: [{ imageIds: [1], classId: 2 }],
    });
    // Events reach the listener without the IpcRendererEvent (which would leak the sender).
    const seen: unknown[] = [];
    const stop = sorta.on((event) => seen.push(event));
    for (const listener of listeners.get(EVENT_CHANNEL) ?? [])
      listener({ sender: 'secret' }, { type: 'data.changed', topics: ['labels'] });
    stop();
    assert.deepEqual(seen, [{ type: 'data.changed', topics: ['labels'] }]);
    assert.equal(listeners.get(EVENT_CHANNEL)?.size, 0);
  });
});

describe('IPC in main', () => {
  function setup() {
    const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
    const ipcMain: IpcMainLike = {
      handle: (channel, listener) => void handlers.set(channel, listener),
      removeHandler: (channel) => void handlers.delete(channel),
    };
    const calls: { method: string; input: unknown }[] = [];
    const window = {};
    const unregister = registerIpc(ipcMain, {
      isTrustedSender: (event) =>
        event.sender === window && event.senderFrame?.url === 'sorta://app/index.html',
      call: async (method, input) => {
        calls.push({ method, input });
        return { ok: true, value: null };
      },
    });
    const trusted: InvokeEventLike = { sender: window, senderFrame: { url: 'sorta://app/index.html' } };
    return { handlers, calls, unregister, trusted };
  }

  it('handles exactly one channel per contract method, the ones the preload invokes', () => {
    const { handlers, unregister } = setup();
    assert.deepEqual([...handlers.keys()].sort(), methodNames.map(methodChannel).sort());
    unregister();
    assert.equal(handlers.size, 0);
  });

  it('refuses messages from other senders and frames, and invalid input, before calling anything', async () => {
    const { handlers, calls, trusted } = setup();
    const labelsSet = handlers.get(methodChannel('labels.set'))!;
    const good = { imageIds: [1, 2], classId: 3 };
    const strangers: InvokeEventLike[] = [
      { sender: {}, senderFrame: { url: 'sorta://app/index.html' } },
      { sender: trusted.sender, senderFrame: { url: 'https://evil.example/' } },
      { sender: trusted.sender, senderFrame: null },
    ];
    for (const event of strangers) {
      const reply = (await labelsSet(event, good)) as { ok: boolean; error: { code: string } };
      assert.equal(reply.ok, false);
      assert.equal(reply.error.code, 'usage');
    }
    for (const bad of [
      { imageIds: 'all', classId: 3 },
      { imageIds: [1], classId: 3, extra: true },
      { imageIds: [-1], classId: 3 },
      null,
    ]) {
      const reply = (await labelsSet(trusted, bad)) as { ok: boolean; error: { code: string } };
      assert.equal(reply.ok, false);
      assert.equal(reply.error.code, 'invalid-input', JSON.stringify(bad));
    }
    assert.equal(calls.length, 0);
    assert.deepEqual(await labelsSet(trusted, good), { ok: true, value: null });
    assert.deepEqual(calls, [{ method: 'labels.set', input: good }]);
  });
});

describe('the web server', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const post = (method: string, body: unknown) =>
    httpRequest(h.server.port, `/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sorta-token': h.server.token },
      body: JSON.stringify(body),
    });

  it('routes every contract method (each validates its input) and no other', async () => {
    for (const method of methodNames) {
      const res = await post(method, { notAField: 1 });
      const reply = JSON.parse(res.body) as { ok: boolean; error: { code: string; message: string } };
      assert.equal(res.status, 400, `${method}: ${res.body}`);
      assert.equal(reply.error.code, 'invalid-input', method);
      assert.match(reply.error.message, new RegExp(`^Bad input for ${method.replace('.', '\\.')}`));
    }
    for (const unknown of ['fs.delete', 'constructor', '__proto__', 'project.current/../x', 'toString']) {
      const res = await post(unknown, {});
      assert.equal(res.status, 404, unknown);
      assert.equal(JSON.parse(res.body).error.code, 'not-found');
    }
  });

  it('has a handler for every method (none falls back to "not available")', () => {
    assert.deepEqual(h.app.registered, methodNames);
  });

  it('answers the Electron-only methods with unsupported', async () => {
    const electronOnly = methodNames.filter((name) => contract[name].electronOnly);
    assert.deepEqual(electronOnly.sort(), [
      'dialog.openFile',
      'dialog.openFolder',
      'dialog.saveFile',
      'shell.showItem',
    ]);
    for (const method of electronOnly) {
      const res = await post(method, method === 'shell.showItem' ? { path: '/tmp' } : {});
      assert.equal(JSON.parse(res.body).error.code, 'unsupported', method);
    }
  });
});
