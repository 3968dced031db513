// `transfusion-native bench study`: a whole study (the quick preset unless told otherwise) in PyTorch from Python
// (bench/study.py) against our `run`, in one invocation, on the same data: the task's and the pretraining source's
// images are drawn once here and written as .npy for the peer. Each repeat runs both sides on a fresh weight cache (so
// pretraining runs on both), alternating which goes first; the figures are medians over the repeats.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../../bindings/native';
import { generateNatural, type Dataset } from '../data/embedded';
import { encodeNpy } from '../data/files/npy';
import { TransfusionError } from '../errors';
import { runsInFlight, threadsPerRun } from '../experiments/concurrency';
import { inputSizeFor } from '../experiments/architecture';
import { evalBatchesFor } from '../experiments/eval-batch';
import { runStudy } from '../experiments/study';
import { armsOf, validateSpec, type StudySpec } from '../experiments/spec';
import { drawTask, taskLabels } from '../experiments/task';
import type { StudyResults } from '../experiments/results';
import { CBR_MODELS, listModels } from '../models';
import { getThreads, peerEnvironment, tunedPeerEnvironment, versions } from '../runtime';
import { learningRates } from '../schedules/lr';

export interface StudyBenchOptions {
  /** The study: a preset's spec, with the flags' changes made. Table 1 arms of CBR models only. */
  spec: StudySpec;
  /** Repeats of both sides; medians are reported. */
  repeats: number;
  /** The peer's interpreter. */
  python: string;
  /** Our runs in flight at once (undefined: runStudy's default). */
  concurrency?: number;
  /** Where the data, the run directories and the caches go (default: a temporary folder, removed at the end). */
  workDir?: string;
}

/** Seconds of one side, whole study and by phase (ours: job seconds summed over runs, which overlap when concurrent). */
export interface StudySeconds {
  study: number;
  pretraining: number;
  training: number;
  evaluation: number;
}

export interface StudyBenchResult {
  /** Whole study: python seconds / ours (median over repeats). */
  ratio: number;
  /**
   * The tuned peer (the same Python with jemalloc or tcmalloc preloaded: `allocator`, `library`; its runs spread over
   * `processes` one-thread-each worker processes as ours spreads its runs; the validation batch it measured fastest),
   * each phase as for the plain peer and `ratio` = its study seconds / ours; absent where neither allocator is installed.
   */
  tuned?: TunedPeerFigures;
  /** Per phase, median seconds of each side and python/ours. */
  study: PhaseFigures;
  pretraining: PhaseFigures;
  training: PhaseFigures;
  evaluation: PhaseFigures;
  runs: number;
  repeats: number;
  threads: number;
  concurrency: number;
  /** Our validation batch per "model size", measured on the machine before the timed study (from the last repeat). */
  evalBatches: Record<string, number>;
  torch: { ours: string; python: string };
  /** Where our side's CPU tensors come from: the addon's reusing allocator, or LibTorch's own (TRANSFUSION_CPU_CACHE=0). */
  cpuAllocator: 'reusing' | 'libtorch';
  /** Per run (study order), from the last repeat: steps and final AUC of each side. */
  perRun: { model: string; init: string; seed: number; steps: { ours: number; python: number }; auc: { ours: number; python: number } }[];
  /** Pretraining accuracy per model, from the last repeat. */
  pretrained: { model: string; top1: { ours: number | null; python: number }; top5: { ours: number | null; python: number } }[];
}

interface PhaseFigures {
  ours: number;
  python: number;
  /** python / ours */
  ratio: number;
}

interface PeerOutput {
  torch: string;
  threads: number;
  processes: number;
  evalBatch: number;
  seconds: StudySeconds;
  pretraining: { model: string; steps: number; top1: number; top5: number; seconds: number }[];
  runs: { model: string; init: string; seed: number; steps: number; auc: number; finalLoss: number; curve: { step: number; auc: number }[] }[];
}

/** The tuned peer's figures: its allocator, processes and validation batch, and each phase against ours. */
export interface TunedPeerFigures {
  allocator: string;
  library: string;
  /** Worker processes its runs were spread over (ours' concurrency; 1: all in one process at every thread). */
  processes: number;
  /** The validation batch it measured fastest (study.py --eval-batch auto), from the last repeat. */
  evalBatch: number;
  ratio: number;
  study: PhaseFigures;
  pretraining: PhaseFigures;
  training: PhaseFigures;
  evaluation: PhaseFigures;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function exportSet(dir: string, name: string, set: Dataset): void {
  const images = set.images();
  fs.writeFileSync(path.join(dir, `${name}_x.npy`), encodeNpy(images.shape, images.data, '<f4'));
  const targets = set.targets();
  const multiclass = set.info().task === 'multiclass';
  fs.writeFileSync(path.join(dir, `${name}_y.npy`), encodeNpy(multiclass ? [set.count] : [set.count, targets.length / set.count], targets, '<f4'));
}

/** The spec the bench can hand the peer: Table 1 arms (random, transfer) of CBR models, embedded data, CPU. */
function checkBenchable(spec: StudySpec): void {
  for (const arm of armsOf(spec)) {
    if (!(CBR_MODELS as readonly string[]).includes(arm.model) || !['random', 'transfer'].includes(arm.init))
      throw new TransfusionError('ERR_INVALID_ARG', `bench study compares CBR models with random and transfer initialisations; "${arm.model}" ${arm.init} has no peer`);
  }
  if (spec.task.source !== 'retina' || spec.pretrain.source !== 'natural' || spec.device !== 'cpu' || spec.imageSizes || spec.train.augment)
    throw new TransfusionError('ERR_INVALID_ARG', 'bench study runs the embedded retina task and natural-image pretraining on the CPU, without per-model sizes or augmentation');
}

/** The study's data, drawn as runStudy draws them (same generators, sizes and seeds), written for the peer. */
async function exportStudy(spec: StudySpec, dir: string): Promise<void> {
  const t = spec.task, p = spec.pretrain;
  const sets: [string, Dataset][] = [
    ['task_train', await drawTask(t, 'train', t.trainSize, t.imageSize, t.seed, {})],
    ['task_val', await drawTask(t, 'val', t.valSize, t.imageSize, t.seed + 1, {})],
    ['natural_train', await generateNatural({ count: p.trainSize, size: p.imageSize, seed: p.seed, classes: p.classes })],
    ['natural_val', await generateNatural({ count: p.valSize, size: p.imageSize, seed: p.seed + 1, classes: p.classes })],
  ];
  try {
    for (const [name, set] of sets) exportSet(dir, name, set);
  } finally {
    sets.forEach(([, set]) => set.dispose());
  }
  const runs = armsOf(spec).flatMap((a) => spec.seeds.map((seed) => ({ model: a.model, init: a.init, seed })));
  const study = {
    threads: getThreads(),
    bootstrap: 1000,
    pretrainModels: [...new Set(runs.filter((r) => r.init === 'transfer').map((r) => r.model))],
    runs,
    train: { steps: spec.train.steps, batchSize: spec.train.batchSize, evalEvery: spec.train.evalEvery, evalAtStart: spec.train.evalEvery > 0, learningRates: Array.from(learningRates(spec.train.schedule, spec.train.steps)) },
    pretrain: { steps: p.steps, batchSize: p.batchSize, classes: p.classes, seed: p.seed, learningRates: Array.from(learningRates(p.schedule, p.steps)) },
  };
  fs.writeFileSync(path.join(dir, 'study.json'), JSON.stringify(study));
}

function runPeer(python: string, dir: string, env: NodeJS.ProcessEnv = peerEnvironment(), args: string[] = []): Promise<PeerOutput> {
  const script = path.join(packageRoot(), 'bench', 'study.py');
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, '--dir', dir, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new TransfusionError('ERR_PYTHON', `${python} could not be started: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) reject(new TransfusionError('ERR_PYTHON', `${python} bench/study.py failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as PeerOutput);
    });
  });
}

/** Ours: the study's wall time (study-start to study-end) and each phase's job seconds from results.json. Its
 * validation batches are measured before it starts, into its cache, as the tuned peer's is before its timer. */
async function runOurs(spec: StudySpec, dir: string, concurrency: number | undefined, inFlight: number): Promise<{ seconds: StudySeconds; results: StudyResults; measuredInside: boolean }> {
  let seconds = NaN, measuredInside = false;
  const cacheDir = path.join(dir, 'cache');  // empty of weights: pretraining runs, as on the peer
  const wanted = listModels().filter((m) => spec.models.includes(m.name)).map((info) => ({ info, size: inputSizeFor(info, spec.task.imageSize, spec.imageSizes) }));
  await evalBatchesFor(wanted, {
    numClasses: taskLabels(spec.task).length, threads: threadsPerRun(inFlight, getThreads()) ?? getThreads(),
    channelsLast: spec.train.channelsLast, cacheDir, images: async () => spec.task.valSize,
  });
  const results = await runStudy(spec, {
    outDir: path.join(dir, 'run'),
    cacheDir,
    checkpointEvery: 0,
    ...(concurrency ? { concurrency } : {}),
    onProgress: (e) => {
      if (e.kind === 'study-end') seconds = e.seconds;
      if (e.kind === 'eval-batch' && e.measuredNow) measuredInside = true;
    },
  });
  const training = results.runs.reduce((s, r) => s + (r.steps * spec.train.batchSize) / r.imagesPerSecond, 0);
  const runs = results.runs.reduce((s, r) => s + r.wallSeconds, 0);
  return {
    seconds: { study: seconds, pretraining: results.pretraining.reduce((s, r) => s + r.wallSeconds, 0), training, evaluation: runs - training },
    results,
    measuredInside,
  };
}

/**
 * Runs the study on both sides `repeats` times and returns the medians.
 * @throws ERR_INVALID_ARG for a study the peer cannot run; ERR_PYTHON when the peer fails.
 */
export async function runStudyBench(o: StudyBenchOptions, onLine: (line: string) => void = () => {}): Promise<StudyBenchResult> {
  const spec = validateSpec(structuredClone(o.spec));
  checkBenchable(spec);
  const work = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tn-bench-study-'));
  fs.mkdirSync(work, { recursive: true });
  try {
    const data = path.join(work, 'data');
    fs.mkdirSync(data, { recursive: true });
    await exportStudy(spec, data);
    const ours: StudySeconds[] = [], python: StudySeconds[] = [], pythonTuned: StudySeconds[] = [];
    // The tuned peer: the same Python with jemalloc or tcmalloc preloaded, where one is installed, its validation
    // batch the fastest it measures, and its runs spread over as many one-thread-each processes as ours runs at once.
    const tuned = tunedPeerEnvironment();
    // As many worker processes as the runs ours keeps in flight (its study starts with every run to do).
    const processes = runsInFlight(o.concurrency, armsOf(spec).length * spec.seeds.length, getThreads());
    const tunedArgs = ['--processes', String(processes), '--eval-batch', 'auto'];
    let last: { ours: StudyResults; python: PeerOutput } | undefined;
    let tunedEvalBatch: number | undefined;
    for (let k = 0; k < o.repeats; k++) {
      const dir = path.join(work, `repeat-${k}`);
      fs.rmSync(dir, { recursive: true, force: true });
      let a: Awaited<ReturnType<typeof runOurs>> | undefined, b: PeerOutput | undefined, c: PeerOutput | undefined;
      const sides = [
        async () => void (a = await runOurs(spec, dir, o.concurrency, processes)),
        async () => void (b = await runPeer(o.python, data)),
        ...(tuned ? [async () => void (c = await runPeer(o.python, data, tuned.env, tunedArgs))] : []),
      ];
      // Rotate which side goes first, so none always runs on a warmer (or hotter) machine.
      for (let s = 0; s < sides.length; s++) await sides[(s + k) % sides.length]();
      ours.push(a!.seconds);
      python.push(b!.seconds);
      if (a!.measuredInside) onLine(`repeat ${k + 1}: our study measured a validation batch inside its timed seconds (the cache key differed)`);
      if (c) {
        pythonTuned.push(c.seconds);
        tunedEvalBatch = c.evalBatch;
      }
      last = { ours: a!.results, python: b! };
      const phases = (x: StudySeconds) => `pretraining ${x.pretraining.toFixed(1)}, training ${x.training.toFixed(1)}, evaluation ${x.evaluation.toFixed(1)}`;
      onLine(`repeat ${k + 1}/${o.repeats}: study ours ${a!.seconds.study.toFixed(1)} s, python ${b!.seconds.study.toFixed(1)} s ` +
        `(ours: ${phases(a!.seconds)} job s; python: ${phases(b!.seconds)} s)` +
        (c && tuned ? `; python+${tuned.allocator} in ${processes} process(es), validation batch ${c.evalBatch}: ${c.seconds.study.toFixed(1)} s (${phases(c.seconds)} s)` : ''));
    }
    // Each phase's medians, ours against a peer's.
    const against = (peer: StudySeconds[]) => {
      const phase = (key: keyof StudySeconds): PhaseFigures => {
        const our = median(ours.map((s) => s[key])), py = median(peer.map((s) => s[key]));
        return { ours: our, python: py, ratio: py / our };
      };
      return { study: phase('study'), pretraining: phase('pretraining'), training: phase('training'), evaluation: phase('evaluation') };
    };
    const plain = against(python);
    const tunedFigures = tuned && pythonTuned.length ? against(pythonTuned) : undefined;
    const theirs = (r: { model: string; init: string; seed: number }) => last!.python.runs.find((p) => p.model === r.model && p.init === r.init && p.seed === r.seed);
    return {
      ratio: plain.study.ratio,
      ...plain,
      ...(tuned && tunedFigures
        ? { tuned: { allocator: tuned.allocator, library: tuned.library, processes, evalBatch: tunedEvalBatch!, ratio: tunedFigures.study.ratio, ...tunedFigures } }
        : {}),
      runs: last!.ours.runs.length,
      repeats: o.repeats,
      threads: getThreads(),
      concurrency: last!.ours.environment.concurrency ?? 1,
      evalBatches: last!.ours.environment.evalBatches ?? {},
      torch: { ours: last!.ours.environment.torch, python: last!.python.torch },
      cpuAllocator: versions().cpuAllocator,
      perRun: last!.ours.runs.map((r) => ({
        model: r.model, init: r.init, seed: r.seed,
        steps: { ours: r.steps, python: theirs(r)?.steps ?? NaN },
        auc: { ours: r.auc, python: theirs(r)?.auc ?? NaN },
      })),
      pretrained: last!.ours.pretraining.map((r) => {
        const p = last!.python.pretraining.find((x) => x.model === r.model);
        return { model: r.model, top1: { ours: r.top1, python: p?.top1 ?? NaN }, top5: { ours: r.top5, python: p?.top5 ?? NaN } };
      }),
    };
  } finally {
    if (!o.workDir) fs.rmSync(work, { recursive: true, force: true });
  }
}
