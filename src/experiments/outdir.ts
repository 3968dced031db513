// Where a study writes: the run directory a name gives (inside runs/, never outside it), and the rule that a study
// already in a directory is never written over unless the caller says so (`--overwrite`, `overwrite: true`).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../errors';
import { displayPath, resolveInside } from '../io/paths';

/** Where run directories go when no --out is given, relative to the working directory. */
export const RUNS_DIR = 'runs';

/**
 * The run directory of a study named `name`: runs/<name>-<time>. A name that is not one path segment ("../../x",
 * "a/b", "") is refused by name, so a study file cannot place its results outside runs/.
 */
export function defaultRunDir(name: string, when = new Date(), root = RUNS_DIR): string {
  if (typeof name !== 'string' || name.length === 0 || /[/\\]/.test(name) || name.includes('\0') || name === '.' || name === '..')
    throw new TransfusionError(
      'ERR_INVALID_ARG',
      `Expected the study's \`name\` to be a name without path separators (it names the run directory under ${RUNS_DIR}/) but received ${JSON.stringify(displayPath(String(name)))}; rename the study, or choose its directory with --out`,
    );
  const stamp = when.toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  return resolveInside(root, `${name}-${stamp}`, 'The study\'s `name`');
}

/** What a results.json says about its study, read defensively: it may be another version's, or damaged. */
function describeStudy(file: string): { text: string; finished: boolean } {
  let r: Record<string, unknown>;
  try {
    if (fs.statSync(file).size > 256 << 20) return { text: 'a results.json too large to read', finished: false };
    r = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (r === null || typeof r !== 'object') throw new Error('not an object');
  } catch {
    return { text: 'a results.json that cannot be read', finished: false };
  }
  const spec = (typeof r.spec === 'object' && r.spec !== null ? r.spec : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? JSON.stringify(displayPath(v)) : undefined);
  const runs = Array.isArray(r.runs) ? r.runs.length : undefined;
  const finished = typeof r.finishedAt === 'string';
  const facts = [
    str(spec.experiment) && `experiment ${str(spec.experiment)}`,
    str(r.startedAt) && `started ${str(r.startedAt)}`,
    finished ? `finished ${str(r.finishedAt)}` : 'not finished',
    runs !== undefined && `${runs} run(s) recorded`,
  ].filter(Boolean);
  return { text: `the ${finished ? 'finished ' : ''}study ${str(spec.name) ?? '(unnamed)'} (${facts.join(', ')})`, finished };
}

/**
 * Refuses (ERR_RUN_EXISTS) to start a new study in `outDir` when it already holds one (its results.json): the error
 * says which study is there and how to go on: resume it, choose another directory, or replace it explicitly.
 */
export function refuseExistingStudy(outDir: string): void {
  const file = path.join(outDir, 'results.json');
  if (!fs.existsSync(file)) return;
  const { text, finished } = describeStudy(file);
  const dir = displayPath(outDir);
  const resume = finished ? '' : `continue it with \`transfusion-native run --resume ${dir}\` (runStudy: resume: true), `;
  throw new TransfusionError(
    'ERR_RUN_EXISTS',
    `${dir} already holds ${text}; ${resume}choose another directory (--out / outDir), or replace it with --overwrite (runStudy: overwrite: true)`,
  );
}
