// Native jobs as promises that honour an AbortSignal: abort maps to the job's atomic cancel flag.
import type { NativeJob } from '../bindings/native';
import { TransfusionError, abortError, type ErrorCode } from './errors';

export async function awaitJob<T>(start: () => NativeJob<T>, signal?: AbortSignal): Promise<T> {
  // The caller's frames, taken now: a job's error is made on the worker's completion, with no user frames of its own
  // (as sharp's nativeError does).
  const caller = new Error();
  if (signal?.aborted) throw withStack(abortError(signal), caller);
  let job: NativeJob<T>;
  try {
    job = start();
  } catch (err) {
    throw asTransfusionError(err);
  }
  const onAbort = () => job.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await job.promise;
  } catch (err) {
    // Cancelled through the signal: the error says why, as the signal's reason does.
    const cancelled = signal?.aborted && (err as { code?: unknown })?.code === 'ABORT_ERR';
    throw withStack(cancelled ? abortError(signal) : asTransfusionError(err), caller);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** err with the stack of `caller` (the frames below its first line) under err's own first line. */
function withStack(err: unknown, caller: Error): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const e = err as { name?: string; message?: string; stack?: string };
  const frames = (caller.stack ?? '').split('\n').slice(1).join('\n');
  if (frames) e.stack = `${e.name ?? 'Error'}: ${e.message ?? ''}\n${frames}`;
  return err;
}

/** Native errors carry `code`; give them our class so callers can test `instanceof TransfusionError`. */
export function asTransfusionError(err: unknown): unknown {
  // Duck-typed, not instanceof Error: errors made by the addon may come from another realm (vm contexts, jest).
  if (err instanceof TransfusionError || typeof err !== 'object' || err === null) return err;
  const { code, message, stack } = err as { code?: unknown; message?: unknown; stack?: string };
  if (typeof code !== 'string' || typeof message !== 'string') return err;
  return Object.assign(new TransfusionError(code as ErrorCode, message), { stack });
}

/** Runs a synchronous native call, converting its error the same way. */
export function callNative<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asTransfusionError(err);
  }
}
