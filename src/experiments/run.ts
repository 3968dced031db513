// One training run of a study: the model built for its size, its initialisation applied, trained, and its record.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Metrics } from '../../bindings/native';
import type { Dataset } from '../data/embedded';
import type { ProcessGroup } from '../distributed';
import { stepsToAuc } from '../metrics';
import { modelNamed, type ModelInfo } from '../models';
import { applyInit, initLabel, type Initialisation } from '../init/init';
import { train, type TrainEvent } from '../train';
import { effectiveInit, modelOptionsFor } from './architecture';
import type { PretrainRecord } from './pretrain';
import { snapshotPath, weightsPath } from './rundir';
import type { RunRecord } from './results';
import { trainOptionsOf, type StudySpec } from './spec';

export async function runOne(
  spec: StudySpec,
  info: ModelInfo,
  size: number,
  initialisation: Initialisation,
  seed: number,
  /** The task's sets at this size, and its output names (taskLabels, read once per study). */
  data: { train: Dataset; val: Dataset; labels: readonly string[] },
  pretrained: PretrainRecord | undefined,
  opts: {
    snapshotsIn?: string;
    /** The run directory to keep the trained weights in (spec.saveWeights), under weights/. */
    weightsIn?: string;
    checkpoint: { checkpointPath: string; checkpointEvery: number; resume: boolean };
    group?: ProcessGroup;
    syncBatchNorm?: boolean;
    /** Intra-op threads of this run alone (undefined: the process's). */
    threads?: number;
    /** Validation images per forward pass (undefined: evaluate()'s default). */
    evalBatchSize?: number;
    signal?: AbortSignal;
    onProgress: (e: TrainEvent) => void;
  },
): Promise<RunRecord> {
  const model = info.name;
  const net = modelNamed(model, modelOptionsFor(info, size, { numClasses: data.labels.length, seed, padding: spec.padding, device: spec.device }));
  try {
    const report = await applyInit(net, effectiveInit(model, initialisation), pretrained && { weights: pretrained.weights, model: pretrained.model }, seed, { signal: opts.signal });
    const label = initLabel(initialisation);
    const snapshots = opts.snapshotsIn ? { init: snapshotPath(model, label, seed, 'init'), final: snapshotPath(model, label, seed, 'final') } : undefined;
    if (snapshots) {
      fs.mkdirSync(path.join(opts.snapshotsIn!, 'snapshots'), { recursive: true });
      await net.saveWeights(path.join(opts.snapshotsIn!, snapshots.init), { signal: opts.signal });
    }
    const perRank = opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {};
    const r = await train(net, { train: data.train, val: data.val }, { ...trainOptionsOf(spec.train), ...opts.checkpoint, ...perRank, seed, ...(opts.threads ? { threads: opts.threads } : {}), ...(opts.evalBatchSize ? { evalBatchSize: opts.evalBatchSize } : {}) }, { signal: opts.signal, onProgress: opts.onProgress });
    if (snapshots) await net.saveWeights(path.join(opts.snapshotsIn!, snapshots.final), { signal: opts.signal });
    // --save-weights: the run's weights as it ended (the best evaluation's under keepBest), for the user to keep.
    const weights = opts.weightsIn ? weightsPath(model, label, seed) : undefined;
    if (weights) {
      fs.mkdirSync(path.join(opts.weightsIn!, 'weights'), { recursive: true });
      await net.saveWeights(path.join(opts.weightsIn!, weights), { signal: opts.signal });
    }
    const curve = r.curve.map((p) => ({ step: p.step, auc: p.meanAuc ?? null }));
    return {
      model,
      init: initLabel(initialisation),
      seed,
      imageSize: size,
      auc: r.final.meanAuc ?? NaN,
      ...(r.final.auc && r.final.auc.length > 1 ? { aucs: Object.fromEntries(data.labels.map((l, i) => [l, r.final.auc![i] ?? null])) } : {}),
      ...finalExtras(r.final, data.labels),
      stepsToThreshold: stepsToAuc(curve, spec.threshold),
      steps: r.steps,
      finalLoss: r.losses[r.losses.length - 1],
      wallSeconds: r.wallSeconds,
      imagesPerSecond: r.imagesPerSecond,
      device: spec.device,
      curve,
      ...(initialisation.kind === 'random' ? {} : { load: report }),
      ...(r.resumedFrom > 0 ? { resumedFrom: r.resumedFrom } : {}),
      ...(snapshots ? { snapshots } : {}),
      ...(weights ? { weights } : {}),
      ...(r.stopped === 'early' ? { stoppedEarly: true } : {}),
      ...(spec.train.keepBest ? { bestStep: r.bestStep } : {}),
    };
  } finally {
    net.dispose();
  }
}

/** AUC-PR (per finding where there are several), the AUC's bootstrap interval and kappa, where the final metrics have them. */
function finalExtras(m: Metrics, labels: readonly string[]): Partial<RunRecord> {
  return {
    ...(m.meanAuprc !== undefined ? { auprc: m.meanAuprc } : {}),
    ...(m.auprc && m.auprc.length > 1 ? { auprcs: Object.fromEntries(labels.map((l, i) => [l, m.auprc![i] ?? null])) } : {}),
    ...(m.aucCi ? { aucCi: m.aucCi } : {}),
    ...(m.kappa !== undefined ? { kappa: m.kappa } : {}),
  };
}
