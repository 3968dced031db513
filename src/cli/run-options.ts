// The `run` command's options: their definitions, and the study spec they describe (an experiment at a preset, or a
// study file, with flags on top).
import * as path from 'node:path';
import type { Argv } from 'yargs';

import { TransfusionError, checkInteger, checkNumber, checkOneOf, invalidArg } from '../errors';
import { LIMITS } from '../limits';
import { UNCERTAINTY_POLICIES } from '../data/embedded';
import { DATA_FORMATS, DATA_TARGETS, resolveDataPath } from '../data/files/formats';
import { EXPERIMENTS, experimentSpec } from '../experiments/catalog';
import { loadStudyConfig } from '../experiments/config';
import { PRESETS } from '../experiments/presets';
import { defaultCacheDir } from '../experiments/pretrain';
import type { StudySpec } from '../experiments/spec';
import { DEFAULT_CHECKPOINT_EVERY } from '../experiments/rundir';
import type { AugmentOptions } from '../../bindings/native';
import type { DicomReadOptions } from '../data/files/dicom';

/** ["resnet50=a.pth", "inception_v3=b.pth,cbr-small=c.pt"] -> { resnet50: 'a.pth', ... } */
export function parseWeights(items: string[]): Record<string, string> {
  return parseAssignments('--weights', items, 'PATH');
}

/** "rotate=10,translate=0.05,scale=0.1,flip" -> AugmentOptions, each value checked against its range. */
export function parseAugment(text: string): AugmentOptions {
  const out: AugmentOptions = {};
  const limits = { rotate: LIMITS.rotate, translate: LIMITS.translate, scale: LIMITS.scale } as const;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (key === 'flip' && value === undefined) out.flip = true;
    else if (key in limits && value !== undefined) {
      const limit = limits[key as keyof typeof limits];
      out[key as keyof typeof limits] = checkNumber(`--augment ${key}`, Number(value), limit.min, limit.max);
    }
    else throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--augment\` items rotate=DEG, translate=FRACTION, scale=FRACTION or flip but received "${part}"`);
  }
  return out;
}

/** MODEL=VALUE entries, repeatable or comma-separated, keyed by lower-case model name. */
export function parseAssignments(option: string, items: string[], what = 'VALUE'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((i) => i.split(','))) {
    const at = item.indexOf('=');
    if (at <= 0 || at === item.length - 1)
      throw new TransfusionError('ERR_INVALID_ARG', `Expected \`${option}\` entries as MODEL=${what} but received "${item}"`);
    out[item.slice(0, at).trim().toLowerCase()] = item.slice(at + 1).trim();
  }
  return out;
}

/** The flags of `run`. */
export function runOptions<T>(y: Argv<T>) {
  return y
    .positional('experiment', { type: 'string', default: 'table1', describe: `One of ${Object.keys(EXPERIMENTS).join(', ')}` })
    .option('preset', { type: 'string', default: 'quick', describe: `Scale preset: ${Object.keys(PRESETS).join(', ')}` })
    .option('config', { type: 'string', describe: 'A study file (JSON; schema: `transfusion-native schema`): an experiment at a preset with any field overridden' })
    .option('threshold', { type: 'number', describe: 'Validation AUC for steps-to-threshold (the paper: 0.91)' })
    .option('image-size', { type: 'string', array: true, describe: 'Per-model image size, MODEL=PX (e.g. resnet50=96: scaled input); repeatable' })
    .option('out', { type: 'string', describe: 'Run directory (default runs/<preset>-<time>)' })
    .option('seed', { type: 'number', describe: 'First seed: the preset\'s N seeds become seed, seed+1, ...' })
    .option('models', { type: 'string', describe: 'Comma-separated models instead of the preset\'s (see `models`)' })
    .option('weights', { type: 'string', array: true, describe: 'Your pretrained weights for a model\'s transfer arm: MODEL=PATH (.pth/.pt or .safetensors); repeatable' })
    .option('device', { type: 'string', describe: 'cpu or cuda (default: the preset\'s)' })
    .option('threads', { type: 'number', describe: 'LibTorch threads (default: available cores)' })
    .option('concurrency', { type: 'number', describe: 'CPU: training runs in flight at once, the threads shared out (default: one per thread, each at 1 thread)' })
    .option('precision', { type: 'string', describe: 'fp32, tf32 (CUDA: TF32 matmuls and convs) or bf16 (autocast); default bf16 on CUDA, fp32 on the CPU' })
    .option('channels-last', { type: 'boolean', describe: 'NHWC weights and inputs; default on for CUDA, off on the CPU (--no-channels-last)' })
    .option('data', { type: 'string', describe: 'Your dataset instead of the embedded task: a folder or file (see --format)' })
    .option('format', { type: 'string', describe: `Format of --data: ${DATA_FORMATS.join(', ')} (default: detected)` })
    .option('target', { type: 'string', describe: 'Graded retinal --data (eyepacs, aptos2019, messidor2, idrid, RetinaMNIST): referable (default: grade >= 2, one output) or grade (5 classes; quadratic kappa, and the AUC of P(grade >= 2))' })
    .option('image-dir', { type: 'string', describe: 'EyePACS: the folder of <image>.jpeg files when not train/ beside trainLabels.csv' })
    .option('steps', { type: 'number', describe: 'Training steps of each run (the preset\'s otherwise; pretraining keeps its own)' })
    .option('lr', { type: 'number', describe: 'Peak learning rate of each run\'s schedule (the preset\'s otherwise)' })
    .option('patience', { type: 'number', describe: 'Early stopping: evaluations in a row without a better validation AUC before a run stops (default: off)' })
    .option('save-weights', { type: 'string', describe: 'Keep each run\'s trained weights in DIR/weights/: final (the last step\'s) or best (the best evaluation\'s; the run\'s AUC is then that evaluation\'s)' })
    .option('train-size', { type: 'number', describe: 'Training images to keep (stratified, seeded; e.g. 5000 for the small-data regime)' })
    .option('val-size', { type: 'number', describe: 'Validation images to keep (default: the preset\'s; with --data, capped by the split)' })
    .option('policy', { type: 'string', array: true, describe: 'CheXpert and MIMIC-CXR uncertain labels: FINDING=ignore|zeros|ones; repeatable' })
    .option('all-views', { type: 'boolean', describe: 'CheXpert and MIMIC-CXR: keep lateral views too (default: frontal only)' })
    .option('equalize', { type: 'string', describe: 'Image contrast for --data: none (default), normalise or clahe' })
    .option('dicom-frame', { type: 'number', describe: 'DICOM files in --data and --pretrain-data: the frame read from each, from 0 (default 0)' })
    .option('dicom-window', { type: 'string', describe: 'DICOM files in --data and --pretrain-data: the display window, CENTER,WIDTH in Modality LUT units (e.g. --dicom-window=-600,1500 for CT lungs) or auto (0.5th-99.5th percentiles); default the file\'s window, else auto' })
    .option('augment', { type: 'string', describe: 'Random affine augmentation of training images, e.g. rotate=10,translate=0.05,scale=0.1,flip' })
    .option('on-bad-image', { type: 'string', describe: 'fail (default) or skip: unreadable images are left out and counted in the report' })
    .option('pretrain-data', { type: 'string', describe: 'Labelled images for pretraining: an image folder, Fashion-MNIST idx files, or "fashion-mnist" (Debian\'s dataset-fashion-mnist)' })
    .option('pretrain-format', { type: 'string', describe: 'Format of --pretrain-data: folder or fashion-mnist (default: detected)' })
    .option('overwrite', { type: 'boolean', describe: 'Start afresh in an --out directory that already holds a study, replacing its results (refused otherwise)' })
    .option('resume', { type: 'string', describe: 'Continue the interrupted study in this run directory: finished runs are kept, the one in progress continues from its checkpoint' })
    .option('shard', { type: 'string', describe: 'Run only shard INDEX/COUNT of the study (0-based; for job arrays); merge the shards with `report DIRS.. --out DIR`' })
    .option('sync-bn', { type: 'boolean', describe: 'Data-parallel runs: BatchNorm statistics over every rank\'s slice (default: per rank, as DDP)' })
    .option('checkpoint-every', { type: 'number', describe: `Save the run in progress every N steps, for --resume (default ${DEFAULT_CHECKPOINT_EVERY}; 0: never)` })
    .option('cache-dir', { type: 'string', describe: `Pretrained-weight and decoded-image cache (default ${defaultCacheDir()})` })
    .option('tensorboard', { type: 'string', describe: 'Write TensorBoard scalars (loss, lr, validation AUC per run, one folder per model/init/seed) under this folder' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
    .option('json', { type: 'boolean', default: false, describe: 'Progress as JSON lines on stdout' })
    .example('$0 run', 'Table 1 at the quick preset on the embedded retina task')
    .example('$0 run transfusion --preset quick --models cbr-small', 'Figure 7: transfuse the bottom k stages, steps to the threshold AUC')
    .example('$0 run --data ~/eyepacs --format eyepacs --train-size 5000', 'Table 1 on your Kaggle DR download, small-data regime')
    .example('$0 run --data ~/aptos --format aptos2019 --target grade', 'The 5-level DR grade: quadratic kappa beside the referable AUC')
    .example('$0 run --config study.json', 'A study described in a file')
    .example('$0 run --resume runs/quick-2026-11-30T10-00-00', 'Continue an interrupted study')
    .example('$0 run --preset tiny --out runs/mine --overwrite', 'Run again into a directory that holds a study, replacing it')
    .example('$0 run --shard 0/4 --seed 0 --out runs/s0', 'The first of four shards of a study');
}

export type RunArgs = ReturnType<typeof runOptions>;
type Parsed = Awaited<RunArgs['argv']>;

/** Flags that would change a study: refused with --resume (the run directory records the study). */
export const STUDY_FLAGS = ['preset', 'config', 'threshold', 'image-size', 'out', 'seed', 'models', 'weights', 'device', 'precision', 'channels-last', 'data', 'format',
  'target', 'image-dir', 'train-size', 'val-size', 'steps', 'lr', 'patience', 'save-weights', 'policy', 'all-views', 'equalize', 'dicom-frame', 'dicom-window', 'augment', 'on-bad-image', 'pretrain-data', 'pretrain-format', 'shard', 'sync-bn', 'overwrite'];

/** The flags among `names` that appear on the command line. */
export const givenFlags = (argv: string[], names: string[]) => names.filter((f) => argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`)));

/** The study the command line describes: the experiment at its preset (or the study file), then the flags. */
export function studySpecOf(args: Parsed, argv: string[]): StudySpec {
  let spec: StudySpec;
  if (args.config !== undefined) {
    const clash = givenFlags(argv, ['preset']);
    if (clash.length || args.experiment !== 'table1')
      throw new TransfusionError('ERR_INVALID_ARG', `--config ${args.config} names its experiment and preset; drop ${clash.length ? '--preset' : `the experiment "${args.experiment}"`}`);
    spec = loadStudyConfig(path.resolve(args.config));
  } else spec = experimentSpec(args.experiment as string, args.preset);
  if (args.seed !== undefined) {
    if (!Number.isInteger(args.seed) || args.seed < 0)
      throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--seed\` to be a non-negative integer but received ${args.seed}`);
    spec.seeds = spec.seeds.map((_, i) => (args.seed as number) + i);
  }
  if (args.models !== undefined) {
    const models = args.models.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
    spec.models = models;
    if (spec.arms) {
      spec.arms = spec.arms.filter((a) => models.includes(a.model));
      if (!spec.arms.length)
        throw new TransfusionError('ERR_INVALID_ARG', `Experiment "${args.experiment}" has no arms for --models ${args.models}`);
    }
  }
  if (args.threshold !== undefined) spec.threshold = checkNumber('--threshold', args.threshold, 0, 1);
  if (args.weights !== undefined) spec.weights = parseWeights(args.weights);
  if (args['image-size'] !== undefined)
    spec.imageSizes = Object.fromEntries(Object.entries(parseAssignments('--image-size', args['image-size'])).map(([m, v]) => [m, Number(v)]));
  if (args.device !== undefined) spec.device = args.device;
  const dataSpec = (file: string, format: string | undefined, option: string) => ({
    path: resolveDataPath(file, option),
    ...(format !== undefined ? { format: checkOneOf('--format', format, DATA_FORMATS) } : {}),
    ...(args['image-dir'] !== undefined ? { imageDir: path.resolve(args['image-dir']) } : {}),
    ...(args.equalize !== undefined ? { equalize: checkOneOf('--equalize', args.equalize, ['none', 'normalise', 'clahe'] as const) } : {}),
    ...(args['on-bad-image'] !== undefined ? { onBadImage: checkOneOf('--on-bad-image', args['on-bad-image'], ['fail', 'skip'] as const) } : {}),
    ...dicomOptions(args['dicom-frame'], args['dicom-window']),
  });
  if (args.data !== undefined) {
    const policy = args.policy ? Object.fromEntries(Object.entries(parseAssignments('--policy', args.policy)).map(([f, p]) => [f, checkOneOf(`--policy ${f}`, p, UNCERTAINTY_POLICIES)])) : undefined;
    const target = args.target !== undefined ? { target: checkOneOf('--target', args.target, DATA_TARGETS) } : {};
    spec.task = { ...spec.task, source: 'files', data: { ...dataSpec(args.data, args.format, '--data'), ...(policy ? { policy } : {}), ...(args['all-views'] ? { frontalOnly: false } : {}), ...target } };
  } else if (args.target !== undefined) {
    throw new TransfusionError('ERR_INVALID_ARG', '--target applies to graded retinal data given with --data (eyepacs, aptos2019, messidor2, idrid, RetinaMNIST)');
  } else if (args.policy !== undefined) {
    if (spec.task.source !== 'chest') throw new TransfusionError('ERR_INVALID_ARG', '--policy applies to chest x-ray data: `run chexpert` or --data with CheXpert or ChestMNIST');
    spec.task.policy = Object.fromEntries(Object.entries(parseAssignments('--policy', args.policy)).map(([f, p]) => [f, checkOneOf(`--policy ${f}`, p, UNCERTAINTY_POLICIES)]));
  }
  if (args['pretrain-data'] !== undefined) {
    spec.pretrain = { ...spec.pretrain, source: 'files', data: dataSpec(args['pretrain-data'], args['pretrain-format'], '--pretrain-data') };
    spec.why += ` Pretraining on ${spec.pretrain.data!.path} instead of the embedded source.`;
  }
  if (args.data !== undefined) spec.why += ` The task: ${spec.task.data!.path}.`;
  if (args.augment !== undefined) spec.train.augment = parseAugment(args.augment);
  if (args['train-size'] !== undefined) spec.task.trainSize = checkInteger('--train-size', args['train-size'], LIMITS.setSize.min, LIMITS.setSize.max);
  if (args['val-size'] !== undefined) spec.task.valSize = checkInteger('--val-size', args['val-size'], LIMITS.setSize.min, LIMITS.setSize.max);
  if (args.steps !== undefined) spec.train.steps = checkInteger('--steps', args.steps, LIMITS.steps.min, LIMITS.steps.max);
  if (args.lr !== undefined) spec.train.schedule = { ...spec.train.schedule, lr: checkNumber('--lr', args.lr, LIMITS.lr.min, LIMITS.lr.max) };
  if (args.patience !== undefined) {
    spec.train.patience = checkInteger('--patience', args.patience, 1, LIMITS.steps.max);
    if (!spec.train.evalEvery) spec.train.evalEvery = Math.max(1, Math.round(spec.train.steps / 10));  // patience reads evaluations
  }
  if (args['save-weights'] !== undefined) {
    spec.saveWeights = checkOneOf('--save-weights', args['save-weights'], ['best', 'final'] as const);
    spec.train.keepBest = spec.saveWeights === 'best';
    if (spec.train.keepBest && !spec.train.evalEvery) spec.train.evalEvery = Math.max(1, Math.round(spec.train.steps / 10));
  }
  for (const t of [spec.train, spec.pretrain]) {
    if (args.precision !== undefined) t.precision = checkOneOf('--precision', args.precision, ['fp32', 'tf32', 'bf16'] as const);
    if (args['channels-last'] !== undefined) t.channelsLast = args['channels-last'];
  }
  return spec;
}

/** Flags whose value may start with "-" and a digit (a negative window centre), which yargs would read as flags. */
const SIGNED_VALUE_FLAGS = ['--dicom-window'];

/** `--dicom-window -600,1500` as `--dicom-window=-600,1500`, so yargs takes "-600,1500" as the flag's value. */
export function joinSignedValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (SIGNED_VALUE_FLAGS.includes(argv[i]) && /^-[0-9.]/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else if (argv[i] === '--') return [...out, ...argv.slice(i)];
    else out.push(argv[i]);
  }
  return out;
}

/** `--dicom-frame` and `--dicom-window` as a data spec's `dicom` field (absent when neither is given). */
function dicomOptions(frame: number | undefined, window: string | undefined): { dicom?: DicomReadOptions } {
  if (frame === undefined && window === undefined) return {};
  const dicom: DicomReadOptions = {};
  if (frame !== undefined) dicom.frame = checkInteger('--dicom-frame', frame, 0, 65535);
  if (window !== undefined) {
    const [center, width, ...rest] = window.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
    if (window === 'auto') dicom.window = 'auto';
    else if (!rest.length && Number.isFinite(center) && Number.isFinite(width) && width > 0) dicom.window = { center, width };
    else throw invalidArg('--dicom-window', 'CENTER,WIDTH (numbers, WIDTH > 0; e.g. --dicom-window=40,400) or auto', window);
  }
  return { dicom };
}
