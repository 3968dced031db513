// A study spec given as an object (runStudy(spec)) checked field by field against the study schema `run --config`
// uses, so a misspelt field is refused by name in the library as in a file.
import { invalidArg } from '../errors';
import { unknownKey } from '../options';
import { compiled, fieldsAt } from './config';

/** Fields of a study file that a spec given as an object does not have. */
const FILE_ONLY_FIELDS = ['preset', '$schema'];

/**
 * Refuses a spec given as an object (runStudy(spec)) with a field the study schema does not know, as `run --config`
 * refuses it in a file: "Unknown field `train.stepz` for runStudy()'s spec; did you mean `train.steps`?". Values are
 * validateSpec's to check, with its messages.
 */
export function checkSpecFields(spec: unknown, fn: string): void {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw invalidArg('spec', `a study spec (from preset(), experimentSpec() or loadStudyConfig()) for ${fn}`, spec);
  const topLevel = fieldsAt('').filter((f) => !FILE_ONLY_FIELDS.includes(f));
  for (const field of FILE_ONLY_FIELDS)
    if (field in spec) throw unknownKey('field', field, `${fn}'s spec (it belongs in a study file; preset('tiny') gives a whole spec)`, topLevel);
  const validate = compiled();
  if (validate(spec)) return;
  const e = (validate.errors ?? []).find((x) => x.keyword === 'additionalProperties');
  if (!e) return;
  const at = e.instancePath.split('/').slice(1).join('.');
  const within = (f: string) => (at ? `${at}.${f}` : f);
  const field = (e.params as { additionalProperty: string }).additionalProperty;
  throw unknownKey('field', within(field), `${fn}'s spec`, (at ? fieldsAt(e.instancePath) : topLevel).map(within));
}
