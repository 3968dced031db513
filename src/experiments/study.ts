// runStudy: the Table-1 comparison of initialisations. Results are written atomically after every run, so an
// interrupted study loses at most the run in progress.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { generateNatural, generateRetina, type Dataset } from '../data/embedded';
import { writeFileAtomic } from '../io/atomic';
import { createModel, listModels } from '../models';
import { renderReport } from '../report/table1';
import { versions, getThreads } from '../runtime';
import { train, type TrainEvent } from '../train';
import { cachedPretrain, defaultCacheDir, pretrain, type PretrainRecord } from './pretrain';
import { validateSpec, type Init, type StudySpec } from './spec';

export const RESULTS_SCHEMA = 'transfusion-native/results@1';

export interface RunRecord {
  model: string;
  init: Init;
  seed: number;
  /** Final validation AUC-ROC (referable DR). */
  auc: number;
  steps: number;
  finalLoss: number;
  wallSeconds: number;
  imagesPerSecond: number;
  curve: { step: number; auc: number | null }[];
  /** Transfer arm: what loading the pretrained weights did. */
  load?: { loaded: number; reinitialised: string[] };
}

export interface StudyResults {
  schema: typeof RESULTS_SCHEMA;
  spec: StudySpec;
  environment: { torch: string; napi: number; node: string; threads: number; platform: string };
  startedAt: string;
  finishedAt?: string;
  models: { name: string; displayName: string; params: { numel: number; paper: number } }[];
  task: { trainPositives: number; trainSize: number; valPositives: number; valSize: number };
  pretraining: PretrainRecord[];
  runs: RunRecord[];
}

export type StudyEvent =
  | { type: 'study-start'; total: number; outDir: string }
  | { type: 'data'; what: string; seconds: number }
  | { type: 'pretrain-start'; model: string; cached: boolean }
  | { type: 'pretrain-end'; record: PretrainRecord }
  | { type: 'run-start'; index: number; total: number; model: string; init: Init; seed: number }
  | { type: 'train'; index: number; phase: 'pretrain' | 'run'; model: string; event: TrainEvent }
  | { type: 'run-end'; index: number; total: number; record: RunRecord }
  | { type: 'study-end'; outDir: string; seconds: number };

export interface StudyOptions {
  /** The run directory: results.json and report.md land here. */
  outDir: string;
  /** Where pretrained weights are cached (default $TRANSFUSION_CACHE, else ~/.cache/transfusion-native). */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: StudyEvent) => void;
}

const positives = (d: Dataset) => d.targets().reduce((a, b) => a + b, 0);

export async function runStudy(specIn: StudySpec, opts: StudyOptions): Promise<StudyResults> {
  const spec = validateSpec(structuredClone(specIn));
  const emit = opts.onProgress ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const t0 = Date.now();
  fs.mkdirSync(opts.outDir, { recursive: true });
  const total = spec.models.length * spec.inits.length * spec.seeds.length;
  emit({ type: 'study-start', total, outDir: opts.outDir });

  const registry = new Map(listModels().map((m) => [m.name, m]));
  const models = spec.models.map((m) => m.toLowerCase());
  const owned: Dataset[] = [];
  const timed = async <T extends Dataset>(what: string, make: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const d = await make();
    owned.push(d);
    emit({ type: 'data', what, seconds: (Date.now() - t) / 1000 });
    return d;
  };

  try {
    const task = spec.task;
    const trainSet = await timed('retina train', () => generateRetina({ count: task.trainSize, size: task.imageSize, seed: task.seed }, opts));
    const valSet = await timed('retina val', () => generateRetina({ count: task.valSize, size: task.imageSize, seed: task.seed + 1 }, opts));
    const results: StudyResults = {
      schema: RESULTS_SCHEMA,
      spec,
      environment: { ...versions(), threads: getThreads(), platform: `${process.platform}-${process.arch}` },
      startedAt: new Date(t0).toISOString(),
      models: models.map((m) => {
        const info = registry.get(m)!;
        return { name: info.name, displayName: info.displayName, params: info.params };
      }),
      task: { trainPositives: positives(trainSet), trainSize: task.trainSize, valPositives: positives(valSet), valSize: task.valSize },
      pretraining: [],
      runs: [],
    };
    const save = () => {
      writeFileAtomic(path.join(opts.outDir, 'results.json'), JSON.stringify(results, null, 2));
      writeFileAtomic(path.join(opts.outDir, 'report.md'), renderReport(results));
    };
    save();

    let natural: { train: Dataset; val: Dataset } | undefined;
    let index = 0;
    for (const model of models) {
      let pretrained: PretrainRecord | undefined;
      if (spec.inits.includes('transfer')) {
        pretrained = cachedPretrain(model, spec, cacheDir);
        emit({ type: 'pretrain-start', model, cached: Boolean(pretrained) });
        if (!pretrained) {
          const p = spec.pretrain;
          natural ??= {
            train: await timed('natural train', () => generateNatural({ count: p.trainSize, size: p.imageSize, seed: p.seed, classes: p.classes }, opts)),
            val: await timed('natural val', () => generateNatural({ count: p.valSize, size: p.imageSize, seed: p.seed + 1, classes: p.classes }, opts)),
          };
          pretrained = await pretrain(model, spec, natural, cacheDir, {
            signal: opts.signal,
            onProgress: (event) => emit({ type: 'train', index, phase: 'pretrain', model, event }),
          });
        }
        results.pretraining.push(pretrained);
        emit({ type: 'pretrain-end', record: pretrained });
        save();
      }
      for (const init of spec.inits) {
        for (const seed of spec.seeds) {
          index += 1;
          emit({ type: 'run-start', index, total, model, init, seed });
          const record = await runOne(spec, model, init, seed, { train: trainSet, val: valSet }, pretrained, {
            signal: opts.signal,
            onProgress: (event) => emit({ type: 'train', index, phase: 'run', model, event }),
          });
          results.runs.push(record);
          save();
          emit({ type: 'run-end', index, total, record });
        }
      }
    }
    results.finishedAt = new Date().toISOString();
    save();
    emit({ type: 'study-end', outDir: opts.outDir, seconds: (Date.now() - t0) / 1000 });
    return results;
  } finally {
    owned.forEach((d) => d.dispose());
  }
}

async function runOne(
  spec: StudySpec,
  model: string,
  init: Init,
  seed: number,
  data: { train: Dataset; val: Dataset },
  pretrained: PretrainRecord | undefined,
  opts: { signal?: AbortSignal; onProgress: (e: TrainEvent) => void },
): Promise<RunRecord> {
  const net = createModel(model, { numClasses: 1, seed, padding: spec.padding, device: spec.device });
  try {
    let load: RunRecord['load'];
    if (init === 'transfer') {
      const report = await net.loadWeights(pretrained!.weights, { head: 'replace', seed }, opts);
      load = { loaded: report.loaded.length, reinitialised: report.reinitialised };
    }
    const t = spec.train;
    const r = await train(
      net,
      data,
      { steps: t.steps, batchSize: t.batchSize, optimizer: t.optimizer, schedule: t.schedule, weightDecay: t.weightDecay, momentum: t.momentum, evalEvery: t.evalEvery, seed },
      opts,
    );
    return {
      model,
      init,
      seed,
      auc: r.final.meanAuc ?? NaN,
      steps: r.steps,
      finalLoss: r.losses[r.losses.length - 1],
      wallSeconds: r.wallSeconds,
      imagesPerSecond: r.imagesPerSecond,
      curve: r.curve.map((p) => ({ step: p.step, auc: p.meanAuc ?? null })),
      ...(load ? { load } : {}),
    };
  } finally {
    net.dispose();
  }
}
