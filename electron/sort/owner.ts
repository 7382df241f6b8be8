/**
 * Which process runs a job, so that recovery never "recovers" a job another live process on this machine is still
 * running (the desktop app sorting while the CLI starts, say). A job whose owner is gone was interrupted.
 */
import { hostname } from 'node:os';

export interface JobOwner {
  pid: number;
  host: string;
}

export function currentOwner(): JobOwner {
  return { pid: process.pid, host: hostname() };
}

/** True when the job's owner is another process on this machine that is still alive. */
export function ownedByAnotherLiveProcess(params: Record<string, unknown>): boolean {
  const owner = params.owner as Partial<JobOwner> | undefined;
  if (!owner || typeof owner.pid !== 'number' || owner.host !== hostname() || owner.pid === process.pid)
    return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
