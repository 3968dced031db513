// The library's options objects checked at the edge, as the CLI's schema checks a study file: an unknown or misspelt
// key is ERR_INVALID_ARG naming it, the function and the closest valid name, and a missing argument is a coded error,
// not a TypeError from deep inside. Each function's list of keys is tied to its options type at compile time.
import { TransfusionError, invalidArg } from './errors';

type Missing<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]>;

/**
 * Every key of `T`, listed once: `optionKeys<TrainOptions>()(['steps', ...])` compiles only when the list names every
 * key of the type (a key added to the type and not here fails with `{ missing: 'theKey' }`) and no key outside it.
 */
export function optionKeys<T>() {
  return <const K extends readonly (keyof T & string)[]>(keys: K & ([Missing<T, K>] extends [never] ? unknown : { missing: Missing<T, K> })): readonly (keyof T & string)[] =>
    keys;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case ignored: "optimiser" -> "optimizer" is 1. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase(), t = b.toLowerCase();
  const d = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++)
    for (let j = 1; j <= t.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[s.length][t.length];
}

/**
 * The valid name nearest `name`, when it is near enough to be a slip: at most a third of its letters apart (at least
 * 2), or else the one valid name it begins ("warmup" -> "warmupSteps").
 */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const v of valid) {
    const d = editDistance(name, v);
    if (d < bestDistance) [best, bestDistance] = [v, d];
  }
  if (bestDistance <= Math.max(2, Math.floor(name.length / 3))) return best;
  const extended = name.length >= 3 ? valid.filter((v) => v.toLowerCase().startsWith(name.toLowerCase())) : [];
  return extended.length === 1 ? extended[0] : undefined;
}

/** "Unknown option `optimiser` for train(); did you mean `optimizer`?" (or, with no near name, the valid ones). */
export function unknownKey(kind: string, key: string, where: string, valid: readonly string[]): TransfusionError {
  const near = closestName(key, valid);
  const hint = near ? `did you mean \`${near}\`?` : `expected one of ${valid.map((k) => `\`${k}\``).join(', ')}`;
  return new TransfusionError('ERR_INVALID_ARG', `Unknown ${kind} \`${key}\` for ${where}; ${hint}`);
}

/**
 * Checks the options object `value` given to `fn` (e.g. "train()"): undefined passes (the function's defaults apply);
 * anything but a plain object, or an object with a key outside `keys`, is ERR_INVALID_ARG naming it.
 */
export function checkOptions<T extends object>(fn: string, value: unknown, keys: readonly string[], name = 'options'): T | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArg(name, `an options object for ${fn}`, value);
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw unknownKey('option', key, fn, keys);
  return value as T;
}

/** As checkOptions, for an options object `fn` cannot do without. */
export function requireOptions<T extends object>(fn: string, value: unknown, keys: readonly string[], name = 'options'): T {
  if (value === undefined) throw invalidArg(name, `an options object for ${fn}`, value);
  return checkOptions<T>(fn, value, keys, name)!;
}

/**
 * A native handle's wrapper (a Model, a Dataset) given to `fn`: refused with ERR_INVALID_ARG when it is missing or
 * something else, instead of a TypeError where it is first used. Checked by shape, so a wrapper made by another copy
 * of this package passes.
 */
export function checkHandle<T>(fn: string, name: string, value: T, kind: 'Model' | 'Dataset' | 'ProcessGroup', from: string): T {
  const native = (value as { native?: unknown } | null | undefined)?.native;
  if (value === null || typeof value !== 'object' || native === null || typeof native !== 'object')
    throw invalidArg(name, `a ${kind} (from ${from}) for ${fn}`, value);
  return value;
}

/**
 * A wrapper class's constructor argument: the native handle its factory made. `new Model()` from user code has none,
 * and would otherwise make an object whose every method throws a plain TypeError.
 * @throws ERR_ILLEGAL_CONSTRUCTOR naming the factory.
 */
export function checkNativeHandle<T>(kind: 'Model' | 'Dataset' | 'ProcessGroup', from: string, native: T): T {
  if (native === null || typeof native !== 'object' || typeof (native as { dispose?: unknown }).dispose !== 'function')
    throw new TransfusionError('ERR_ILLEGAL_CONSTRUCTOR', `A ${kind} is made by ${from}, not with new`);
  return native;
}
