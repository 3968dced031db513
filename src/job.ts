// Native jobs as promises that honour an AbortSignal: abort maps to the job's atomic cancel flag.
import type { NativeJob } from '../bindings/native';
import { TransfusionError, abortError } from './errors';

export async function awaitJob<T>(start: () => NativeJob<T>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) throw abortError();
  const job = start();
  const onAbort = () => job.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await job.promise;
  } catch (err) {
    throw asTransfusionError(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Native errors carry `code`; give them our class so callers can test `instanceof TransfusionError`. */
export function asTransfusionError(err: unknown): unknown {
  // Duck-typed, not instanceof Error: errors made by the addon may come from another realm (vm contexts, jest).
  if (err instanceof TransfusionError || typeof err !== 'object' || err === null) return err;
  const { code, message, stack } = err as { code?: unknown; message?: unknown; stack?: string };
  if (typeof code !== 'string' || typeof message !== 'string') return err;
  return Object.assign(new TransfusionError(code, message), { stack });
}

/** Runs a synchronous native call, converting its error the same way. */
export function callNative<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asTransfusionError(err);
  }
}
