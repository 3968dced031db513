// The downstream task of a study: the embedded RETINA-like fundus task (one output: referable DR) or the embedded
// CheXpert-like chest task (five findings, multi-label, with uncertain labels in the training set).
import { chestFindings, generateChest, generateRetina, type Dataset, type UncertaintyPolicy } from '../data/embedded';
import { detectFormat, readLabelled } from '../data/files/formats';
import { twoClassesAsBinary } from '../data/files/labelled';
import type { DataSpec } from '../data/files/load';

/** A study's downstream task: where its images come from and how many are drawn. */
export interface TaskSpec {
  /** retina / chest: the embedded tasks; files: a user's dataset (`data`). */
  source: 'retina' | 'chest' | 'files';
  /** files: the dataset and how to read it. trainSize / valSize then cap the items kept (stratified, seeded). */
  data?: DataSpec;
  /** Input image side in pixels, 16-1024 (per-model overrides: StudySpec.imageSizes). */
  imageSize: number;
  /** Training images (files: at most this many kept). */
  trainSize: number;
  /** Validation images (files: at most this many kept). */
  valSize: number;
  /** Seed of the training images; the validation set uses seed + 1 (files: the seed of the stratified subsample). */
  seed: number;
  /** chest: fraction of training labels that are uncertain (validation labels never are; CheXpert's are consensus reads). */
  uncertainRate?: number;
  /** chest: what uncertain labels become, per finding (default: ones for Atelectasis and Edema, zeros for the rest). */
  policy?: Partial<Record<string, UncertaintyPolicy>>;
}

export const TASK_SOURCES = ['retina', 'chest', 'files'] as const;

/** The task's output names, one per model output (a user's dataset: as its format reads them). */
export function taskLabels(task: TaskSpec): string[] {
  if (task.source === 'files') {
    const d = task.data!;
    return twoClassesAsBinary(readLabelled(d.format ?? detectFormat(d.path), d.path, d)).labels;
  }
  return task.source === 'chest' ? chestFindings() : ['referable DR'];
}

/** One split of the task at an input size. */
export function drawTask(task: TaskSpec, split: 'train' | 'val' | 'probe', count: number, size: number, seed: number, opts: { signal?: AbortSignal }): Promise<Dataset> {
  if (task.source === 'chest')
    return generateChest({ count, size, seed, uncertainRate: split === 'train' ? (task.uncertainRate ?? 0.1) : 0, policy: task.policy }, { signal: opts.signal });
  return generateRetina({ count, size, seed }, { signal: opts.signal });
}

/** Positive labels per output (masked labels not counted). */
export function positivesPerOutput(d: Dataset, outputs: number): number[] {
  const t = d.targets();
  const out = new Array<number>(outputs).fill(0);
  t.forEach((v, i) => (out[i % outputs] += v));
  return out;
}
