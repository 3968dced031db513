// A study's data, made once per input size and kept for the study: the task's train and validation sets (drawn from
// the embedded generators or read from a user's files), the pretraining source's, and Section 4's probe images.
// Architectures that need larger inputs get their own draw of the same task; every set is disposed with the study.
import type { StudyEvent, StudyResults } from './results';
import { generateNatural, type Dataset } from '../data/embedded';
import { loadData, type DataSpec } from '../data/files/load';
import type { StudySpec } from './spec';
import { drawTask } from './task';

type Splits = { train: Dataset; val: Dataset };
type Draw = (split: 'train' | 'val', count: number, size: number, seed: number) => Promise<Dataset>;

export interface StudyData {
  /** The task's train and validation sets at this input size. */
  taskAt(size: number): Promise<Splits>;
  /** The pretraining source's sets at this input size. */
  naturalAt(size: number): Promise<Splits>;
  /** Section 4's probe: task images of their own seed (a user's data: its validation images), the same for every model. */
  probeAt(size: number): Promise<Dataset>;
  /** The user's dataset as results.json records it, once read (undefined for embedded data). */
  files(): StudyResults['data'];
  dispose(): void;
}

export function studyData(spec: StudySpec, opts: { cacheDir: string; signal?: AbortSignal; emit: (e: StudyEvent) => void }): StudyData {
  const { emit } = opts;
  const owned: Dataset[] = [];
  const task = spec.task;
  let files: StudyResults['data'];
  const timed = async <T extends Dataset>(what: string, make: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const d = await make();
    owned.push(d);
    emit({ kind: 'data', what, seconds: (Date.now() - t) / 1000 });
    return d;
  };
  const once = <T>(make: (size: number) => Promise<T>) => {
    const made = new Map<number, Promise<T>>();
    return (size: number) => {
      if (!made.has(size)) made.set(size, make(size));
      return made.get(size)!;
    };
  };
  // Drawn on first use; the validation set uses the next seed.
  const drawn = (source: string, draw: Draw, sizes: { train: number; val: number; seed: number }) =>
    once(async (size) => ({
      train: await timed(`${source} train ${size}px`, () => draw('train', sizes.train, size, sizes.seed)),
      val: await timed(`${source} val ${size}px`, () => draw('val', sizes.val, size, sizes.seed + 1)),
    }));
  // A user's dataset: read, split and decoded once per input size (trainSize / valSize cap what is kept).
  const read = (source: DataSpec, caps: { train: number; val: number; seed: number }, asTask = false) =>
    once(async (size) => {
      const t = Date.now();
      const d = await loadData(source, { size, trainSize: caps.train, valSize: caps.val, seed: caps.seed, cacheDir: opts.cacheDir, signal: opts.signal, asTask });
      owned.push(d.train, d.val);
      emit({ kind: 'data', what: `${d.format} ${source.path} at ${size}px (${d.train.count} train, ${d.val.count} val)`, seconds: (Date.now() - t) / 1000 });
      if (source === task.data) files ??= { path: source.path, format: d.format, available: d.available, skipped: d.skipped, dropped: d.dropped, filesHash: d.filesHash };
      return d;
    });
  const caps = { train: task.trainSize, val: task.valSize, seed: task.seed };
  const taskAt = task.source === 'files' ? read(task.data!, caps, true) : drawn(task.source, (split, count, size, seed) => drawTask(task, split, count, size, seed, opts), caps);
  const p = spec.pretrain;
  const natural = { train: p.trainSize, val: p.valSize, seed: p.seed };
  const naturalAt = p.source === 'files' ? read(p.data!, natural) : drawn('natural', (_split, count, size, seed) => generateNatural({ count, size, seed, classes: p.classes }, { signal: opts.signal }), natural);
  const probeAt = once((size) =>
    task.source === 'files'
      ? taskAt(size).then((d) => d.val)
      : timed(`probe ${size}px`, () => drawTask(task, 'probe', spec.representations!.probeSize, size, task.seed + 7, opts)),
  );
  return { taskAt, naturalAt, probeAt, files: () => files, dispose: () => owned.forEach((d) => d.dispose()) };
}
