/**
 * The handler registry shared by both shells. Each domain's `setupX(registry, ctx)` registers its methods; the
 * Electron IPC layer and the web server call `dispatch`, which validates the input with the method's zod schema
 * and turns every failure into `{code, message}`.
 */
import type { z } from 'zod';
import {
  contract,
  isMethodName,
  methodNames,
  type Handlers,
  type MethodName,
  type MethodOutput,
  type ParsedInput,
  type Reply,
} from '../contract/index.js';
import { serializeError, SortaError } from '../shared/errors.js';

export type Handler<K extends MethodName> = (input: ParsedInput<K>) => Promise<MethodOutput<K>>;

export interface Registry {
  handle<K extends MethodName>(method: K, handler: Handler<K>): void;
  /** Every method, those nobody registered answering `unsupported`. */
  handlers(): Handlers;
  registered(): MethodName[];
}

export function createRegistry(): Registry {
  const table = new Map<MethodName, Handler<MethodName>>();
  return {
    handle(method, handler) {
      if (table.has(method)) throw new Error(`${method} is registered twice`);
      table.set(method, handler as unknown as Handler<MethodName>);
    },
    handlers() {
      const entries = methodNames.map((name) => [name, table.get(name) ?? notAvailable(name)]);
      return Object.fromEntries(entries) as Handlers;
    },
    registered() {
      return methodNames.filter((name) => table.has(name));
    },
  };
}

function notAvailable(method: MethodName): Handler<MethodName> {
  return async () => {
    throw new SortaError('unsupported', `${method} is not available in this version of Sorta.`);
  };
}

/** Checks, validates and runs one call from the UI. Never throws: the result is always a Reply. */
export async function dispatch(handlers: Handlers, method: unknown, input: unknown): Promise<Reply> {
  try {
    if (!isMethodName(method))
      throw new SortaError(
        'not-found',
        `There is no method ${JSON.stringify(String(method)).slice(0, 120)}.`,
      );
    const parsed = contract[method].input.safeParse(input ?? {});
    if (!parsed.success)
      throw new SortaError('invalid-input', `Bad input for ${method}: ${describeIssues(parsed.error)}`);
    const handler = handlers[method] as (input: unknown) => Promise<unknown>;
    const value = await handler(parsed.data);
    return { ok: true, value: value === undefined ? null : value };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
