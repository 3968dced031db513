// The whole paper as four studies, and one beyond it, sharing their models: `reproduce` trains each model once per initialisation and
// seed, and every table and figure reads those runs.
//   retina     Table 1, and the models of Figures 2-5 (snapshots kept) and the random / transfer arms of Figures 6-8
//   section5   the other initialisations of Figures 6-8 (Mean Var, weight transfusion, Slim, Gabor conv1), same task
//   chexpert   Table 2: the chest task, every model, random against transfer
//   small-data Table 3: a tenth of the training images, the paper's three models
//   checkpoints beyond the paper: transfer from intermediate pretraining checkpoints (ResNet-50, CBR-Small), same task
import { TransfusionError, checkInteger, invalidArg } from '../errors';
import { listModels } from '../models';
import { optionKeys, requireOptions } from '../options';
import type { DataSpec } from '../data/files/load';
import { CHECKPOINT_MODELS, EXPERIMENTS, checkpointInits, experimentSpec } from './catalog';
import type { Analysis } from './representations';
import { checkDistinct, type Arm, type StudySpec } from './spec';

/** The studies of a reproduction: retina (Table 1, Figures 2-8), section5 (Figures 6-8), chexpert (Table 2), small-data
 * (Table 3), checkpoints (beyond the paper: transfer from pretraining checkpoints). */
export type PartName = 'retina' | 'section5' | 'chexpert' | 'small-data' | 'checkpoints';

/** One study of the plan: its directory under the reproduction's, what it serves, and its spec. */
export interface ReproducePart {
  name: PartName;
  /** The tables and figures its runs serve. */
  serves: string;
  spec: StudySpec;
}

/** Each Section 4 analysis with the models the paper shows it for (Figures 2-3: every model; 4-5: ResNet-50 and CBR-Small). */
export const ANALYSIS_MODELS: Record<Analysis, string[] | 'all'> = {
  similarity: 'all',
  layers: 'all',
  'init-vs-final': ['resnet50', 'cbr-small'],
  filters: ['resnet50', 'cbr-small'],
  interpolation: ['resnet50', 'cbr-small'],
  criticality: ['resnet50', 'cbr-small'],
  knn: ['resnet50', 'cbr-small'],
};

/** Table 3's models in the paper. */
export const TABLE3_MODELS = ['resnet50', 'cbr-larget', 'cbr-largew'];

/** Figures 6-8 and their arms beyond random and transfer, from the catalog's experiments. */
export const SECTION5_FIGURES = { meanvar: 'Figure 6', transfusion: 'Figure 7', hybrids: 'Figure 8' } as const;

/** What `reproduce` was asked: a preset, optionally other models or the user's data. */
export interface ReproduceRequest {
  /** A preset name: laptop (the default), quick, tiny or paper. */
  preset: string;
  /** Models instead of the preset's (registry names). */
  models?: string[];
  /** The user's dataset instead of the embedded tasks (Table 2's chest task is then not run). */
  data?: DataSpec;
  /** Seeds instead of the preset's. */
  seeds?: number[];
}

export const REQUEST_KEYS = optionKeys<ReproduceRequest>()(['preset', 'models', 'data', 'seeds']);

const convergenceThreshold = (scale: string) => (scale === 'paper' ? 0.91 : 0.85);

/** The arms of an experiment of Section 5 for the models present, random and transfer excepted (retina has them). */
export function section5Arms(experiment: keyof typeof SECTION5_FIGURES, models: string[]): Arm[] {
  const spec = experimentSpec(experiment, 'tiny');
  return (spec.arms ?? []).filter((a) => models.includes(a.model) && a.init !== 'random' && a.init !== 'transfer');
}

/**
 * The studies of a reproduction, in the order they run.
 * @returns The plan's studies, each with its spec.
 * @throws ERR_INVALID_ARG for an unknown preset or an empty model list.
 */
export function reproducePlan(request: ReproduceRequest): ReproducePart[] {
  requireOptions<ReproduceRequest>('reproducePlan()', request, REQUEST_KEYS, 'request');
  const scale = request.preset;
  const base = experimentSpec('table1', scale);
  if (request.models !== undefined && (!Array.isArray(request.models) || request.models.some((m) => typeof m !== 'string')))
    throw invalidArg('models', 'a list of model names', request.models);
  const models = request.models ?? base.models;
  if (!models.length) throw new TransfusionError('ERR_INVALID_ARG', 'Expected at least one model to reproduce the paper with');
  const known = listModels().map((m) => m.name);
  for (const m of models) if (!known.includes(m)) throw invalidArg('models', `model names from: ${known.join(', ')}`, m);
  checkDistinct('models', models);
  const seeds = request.seeds ?? base.seeds;
  if (!Array.isArray(seeds) || !seeds.length) throw invalidArg('seeds', 'a non-empty list of seeds', seeds);
  if (seeds.length > 100) throw invalidArg('seeds', 'at most 100 seeds', `${seeds.length} seeds`);
  seeds.forEach((s) => checkInteger('seeds', s, 0, 1_000_000));
  checkDistinct('seeds', seeds);
  const evalEvery = scale === 'paper' ? 1000 : Math.max(1, Math.round(base.train.steps / 10));
  const common = (spec: StudySpec, name: string): StudySpec => ({
    ...spec,
    name: `reproduce-${scale}-${name}`,
    models: [...models],
    inits: ['random', 'transfer'],
    seeds: [...seeds],
    threshold: convergenceThreshold(scale),
    ...(request.data ? { task: { ...spec.task, source: 'files' as const, data: request.data } } : {}),
  });
  const retina: StudySpec = {
    ...common(base, 'retina'),
    train: { ...base.train, evalEvery },
    // Section 4's probe set and datapoint budget, as the catalog's analyses have them at this scale.
    representations: EXPERIMENTS.similarity.adjust(base).representations,
    why: `${base.why} Each model trained once per initialisation and seed; Table 1 and Figures 2-8 read these runs.`,
  };
  const s5arms = (Object.keys(SECTION5_FIGURES) as (keyof typeof SECTION5_FIGURES)[]).flatMap((e) => section5Arms(e, models));
  const unique = [...new Map(s5arms.map((a) => [`${a.model} ${a.init}`, a])).values()];
  const parts: ReproducePart[] = [{ name: 'retina', serves: 'Table 1, Figures 2-8', spec: retina }];
  if (unique.length)
    parts.push({
      name: 'section5',
      serves: 'Figures 6-8',
      spec: {
        ...retina,
        name: `reproduce-${scale}-section5`,
        experiment: 'meanvar',
        arms: unique,
        models: [...new Set(unique.map((a) => a.model))],
        inits: [...new Set(unique.map((a) => a.init))],
        why: `${base.why} Section 5's initialisations beyond random and transfer (whose runs are the retina study's), on the same task and schedule.`,
      },
    });
  if (!request.data) {
    const chest = experimentSpec('chexpert', scale);
    parts.push({ name: 'chexpert', serves: 'Table 2', spec: { ...common(chest, 'chexpert'), threshold: chest.threshold, train: { ...chest.train, evalEvery: 0 } } });
  }
  const small = experimentSpec('small-data', scale);
  const smallModels = models.filter((m) => TABLE3_MODELS.includes(m));
  const table3 = smallModels.length ? smallModels : models;
  parts.push({
    name: 'small-data',
    serves: 'Table 3',
    spec: { ...common(small, 'small-data'), threshold: small.threshold, models: table3, train: { ...small.train, evalEvery: 0 } },
  });
  // Beyond the paper: transfer from pretraining checkpoints, against the retina study's random and transfer runs.
  const checkpointModels = models.filter((m) => CHECKPOINT_MODELS.includes(m));
  if (checkpointModels.length) {
    const inits = checkpointInits(retina.pretrain.steps);
    parts.push({
      name: 'checkpoints',
      serves: 'Beyond the paper: transfer from pretraining checkpoints',
      spec: {
        ...retina,
        name: `reproduce-${scale}-checkpoints`,
        experiment: 'checkpoints',
        arms: checkpointModels.flatMap((model) => inits.map((init) => ({ model, init }))),
        models: checkpointModels,
        inits,
        why: `${base.why} Transfer from the pretraining run's checkpoints (Neyshabur et al. 2020), on the retina study's task and schedule; its random and transfer runs are the retina study's.`,
      },
    });
  }
  return parts;
}
