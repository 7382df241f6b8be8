/** The main process's side of the core utility process: calls with replies, media lookups, events. */
import { utilityProcess, type UtilityProcess } from 'electron';
import { fileURLToPath } from 'node:url';
import type { MediaRef, MediaVariant, MethodName, Reply, SortaEvent } from '../contract/index.js';
import { SortaError } from '../shared/errors.js';
import type { FromCore, ToCore } from './core-messages.js';

export interface MediaAnswer {
  path: string;
  contentType: string | null;
}

export class CoreProcess {
  private readonly child: UtilityProcess;
  private nextId = 1;
  private readonly pendingCalls = new Map<number, (reply: Reply) => void>();
  private readonly pendingMedia = new Map<number, (answer: MediaAnswer | SortaError) => void>();
  private exited = false;

  constructor(onEvent: (event: SortaEvent) => void) {
    const modulePath = fileURLToPath(new URL('./core-host.js', import.meta.url));
    this.child = utilityProcess.fork(modulePath, [], { serviceName: 'Sorta core', stdio: 'inherit' });
    this.child.on('message', (message: FromCore) => {
      switch (message.type) {
        case 'reply':
          this.pendingCalls.get(message.id)?.(message.reply);
          this.pendingCalls.delete(message.id);
          break;
        case 'media': {
          const answer =
            message.file ??
            new SortaError(message.error?.code ?? 'not-found', message.error?.message ?? 'No such media.');
          this.pendingMedia.get(message.id)?.(answer);
          this.pendingMedia.delete(message.id);
          break;
        }
        case 'event':
          onEvent(message.event);
          break;
        case 'ready':
          break;
      }
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      const error = {
        code: 'internal' as const,
        message: `Sorta's core process stopped (exit code ${code}).`,
      };
      for (const resolve of this.pendingCalls.values()) resolve({ ok: false, error });
      for (const resolve of this.pendingMedia.values()) resolve(new SortaError('internal', error.message));
      this.pendingCalls.clear();
      this.pendingMedia.clear();
    });
  }

  call(method: MethodName, input: unknown): Promise<Reply> {
    if (this.exited)
      return Promise.resolve({
        ok: false,
        error: { code: 'internal', message: "Sorta's core process is not running." },
      });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pendingCalls.set(id, resolve);
      this.post({ type: 'call', id, method, input });
    });
  }

  async media(ref: MediaRef, variant: MediaVariant): Promise<MediaAnswer> {
    if (this.exited) throw new SortaError('internal', "Sorta's core process is not running.");
    const id = this.nextId++;
    const answer = await new Promise<MediaAnswer | SortaError>((resolve) => {
      this.pendingMedia.set(id, resolve);
      this.post({ type: 'media', id, ref, variant });
    });
    if (answer instanceof SortaError) throw answer;
    return answer;
  }

  /** Asks the core to finish (cancel jobs, close the project) and waits up to `timeoutMs` for it to exit. */
  stop(timeoutMs = 5000): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill();
        resolve();
      }, timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.post({ type: 'shutdown' });
    });
  }

  private post(message: ToCore): void {
    this.child.postMessage(message);
  }
}
