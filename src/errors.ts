/**
 * The codes the native addon raises: native/core/error.h's kErrorCodes, which the addon's `errorCodes()` returns (a
 * test holds the two lists equal, and every code written in native/ to be one of them).
 */
export const NATIVE_ERROR_CODES = [
  'ABORT_ERR', 'ERR_BAD_DATA', 'ERR_BAD_WEIGHTS', 'ERR_BUSY', 'ERR_DISPOSED', 'ERR_DISTRIBUTED', 'ERR_DIVERGED',
  'ERR_ILLEGAL_CONSTRUCTOR', 'ERR_INVALID_ARG', 'ERR_IO', 'ERR_NATIVE', 'ERR_NO_CUDA', 'ERR_NUMERICS', 'ERR_OUT_OF_MEMORY',
  'ERR_TORCH', 'ERR_UNKNOWN_MODEL', 'ERR_WEIGHTS_MISMATCH',
] as const;
/** The codes only the TypeScript layer raises. */
export const TS_ERROR_CODES = ['ERR_ADDON_NOT_BUILT', 'ERR_BAD_IMAGE', 'ERR_BAD_NPY', 'ERR_LOCKED', 'ERR_PYTHON', 'ERR_RUN_EXISTS'] as const;
/** Every `code` a TransfusionError can carry: part of the public API. */
export type ErrorCode = (typeof NATIVE_ERROR_CODES)[number] | (typeof TS_ERROR_CODES)[number];

/** An error with a stable `code` (ErrorCode), the same codes the native addon uses (ERR_INVALID_ARG, ERR_UNKNOWN_MODEL, ...). */
export class TransfusionError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code === 'ABORT_ERR' ? 'AbortError' : code === 'ERR_INVALID_ARG' ? 'TypeError' : 'TransfusionError';
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** "Expected `trainSize` to be a positive integer but received -3" */
export function invalidArg(name: string, expected: string, received: unknown): TransfusionError {
  return new TransfusionError('ERR_INVALID_ARG', `Expected \`${name}\` to be ${expected} but received ${show(received)}`);
}

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer in [${min}, ${max}]`;
    throw invalidArg(name, range, value);
  }
  return value;
}

export function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw invalidArg(name, `a number in [${min}, ${max}]`, value);
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw invalidArg(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  return value as T;
}

/**
 * Whether x is one of the named typed arrays. Checked by tag, not instanceof: arrays the addon makes may come from
 * another realm (vm contexts, jest), where instanceof Float32Array is false.
 */
export function isTypedArray(x: unknown, kinds: readonly ('Float32Array' | 'Float64Array')[]): boolean {
  return ArrayBuffer.isView(x) && kinds.some((k) => Object.prototype.toString.call(x) === `[object ${k}]`);
}

/**
 * The error an aborted operation rejects with, as Node's own APIs make it: code ABORT_ERR, name AbortError, the
 * signal's reason kept as `cause`; aborted by AbortSignal.timeout(), it is a TimeoutError.
 */
export function abortError(signal?: AbortSignal): TransfusionError {
  const reason: unknown = signal?.reason;
  const timeout = (reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
  const err = new TransfusionError('ABORT_ERR', timeout ? 'The operation was aborted due to timeout' : 'The operation was aborted');
  if (timeout) err.name = 'TimeoutError';
  if (reason !== undefined) Object.defineProperty(err, 'cause', { value: reason, writable: true, configurable: true });
  return err;
}
