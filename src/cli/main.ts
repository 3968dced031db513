// The command line: a thin layer over the library (runStudy, listModels).
import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';

import { TransfusionError, checkInteger, checkNumber, checkOneOf } from '../errors';
import { UNCERTAINTY_POLICIES } from '../data/embedded';
import { DATA_FORMATS, resolveDataPath } from '../data/files/formats';
import { EXPERIMENTS, experimentSpec } from '../experiments/catalog';
import { PRESETS } from '../experiments/presets';
import { readResults, resumeSpec, runStudy } from '../experiments/study';
import { renderReport } from '../report/markdown';
import { writeFileAtomic } from '../io/atomic';
import { defaultCacheDir } from '../experiments/pretrain';
import { listModels } from '../models';
import { LAYOUTS, pickMetrics, readNpy, similarity, type Metric } from '../similarity/similarity';

/** What `cca` prints by default, keys exactly as in google/svcca's vocabulary. */
const CLI_METRICS: readonly Metric[] = ['mean_cca', 'svcca_mean', 'pwcca', 'linear_cka', 'cca_coefficients'];
import { setThreads } from '../runtime';
import { progressPrinter } from './progress';
import type { AugmentOptions } from '../../bindings/native';

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
}

/** ["resnet50=a.pth", "inception_v3=b.pth,cbr-small=c.pt"] -> { resnet50: 'a.pth', ... } */
export function parseWeights(items: string[]): Record<string, string> {
  return parseAssignments('--weights', items, 'PATH');
}

/** MODEL=VALUE entries, repeatable or comma-separated, keyed by lower-case model name. */
/** "rotate=10,translate=0.05,scale=0.1,flip" -> AugmentOptions, each value checked against its range. */
export function parseAugment(text: string): AugmentOptions {
  const out: AugmentOptions = {};
  const limits = { rotate: 180, translate: 0.5, scale: 0.5 } as const;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (key === 'flip' && value === undefined) out.flip = true;
    else if (key in limits && value !== undefined) out[key as keyof typeof limits] = checkNumber(`--augment ${key}`, Number(value), 0, limits[key as keyof typeof limits]);
    else throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--augment\` items rotate=DEG, translate=FRACTION, scale=FRACTION or flip but received "${part}"`);
  }
  return out;
}

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

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const fail = (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`transfusion-native: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`);
    exitCode = e?.code === 'ABORT_ERR' ? 130 : e?.code === 'ERR_INVALID_ARG' ? 2 : 1;
  };
  await yargs(argv)
    .scriptName('transfusion-native')
    .usage('$0 <command> [options]')
    .command(
      ['run [experiment]', '$0 [experiment]'],
      'Run an experiment (default "table1" at preset "quick": the four CBR models, random init against transfer, 3 seeds, ' +
        'embedded RETINA-like task); also chexpert (Table 2), small-data (Table 3), similarity (Figure 2), layers (Figure 3), init-vs-final (Figure 4), ' +
        'filters (Figure 5), meanvar (Figure 6), transfusion (Figure 7), hybrids (Figure 8)',
      (y) =>
        y
          .positional('experiment', { type: 'string', default: 'table1', describe: `One of ${Object.keys(EXPERIMENTS).join(', ')}` })
          .option('preset', { type: 'string', default: 'quick', describe: `Scale preset: ${Object.keys(PRESETS).join(', ')}` })
          .option('threshold', { type: 'number', describe: 'Validation AUC for steps-to-threshold (the paper: 0.91)' })
          .option('image-size', { type: 'string', array: true, describe: 'Per-model image size, MODEL=PX (e.g. resnet50=96: scaled input); repeatable' })
          .option('out', { type: 'string', describe: 'Run directory (default runs/<preset>-<time>)' })
          .option('seed', { type: 'number', describe: 'First seed: the preset\'s N seeds become seed, seed+1, ...' })
          .option('models', { type: 'string', describe: 'Comma-separated models instead of the preset\'s (see `models`)' })
          .option('weights', {
            type: 'string',
            array: true,
            describe: 'Your pretrained weights for a model\'s transfer arm: MODEL=PATH (.pth/.pt or .safetensors); repeatable',
          })
          .option('device', { type: 'string', describe: 'cpu or cuda (default: the preset\'s)' })
          .option('threads', { type: 'number', describe: 'LibTorch threads (default: available cores)' })
          .option('precision', { type: 'string', describe: 'fp32 (default) or bf16 (autocast; for a GPU)' })
          .option('channels-last', { type: 'boolean', describe: 'NHWC weights and inputs (for a GPU)' })
          .option('data', { type: 'string', describe: 'Your dataset instead of the embedded task: a folder or file (see --format)' })
          .option('format', { type: 'string', describe: `Format of --data: ${DATA_FORMATS.join(', ')} (default: detected)` })
          .option('image-dir', { type: 'string', describe: 'EyePACS: the folder of <image>.jpeg files when not train/ beside trainLabels.csv' })
          .option('train-size', { type: 'number', describe: 'Training images to keep (stratified, seeded; e.g. 5000 for the small-data regime)' })
          .option('val-size', { type: 'number', describe: 'Validation images to keep (default: the preset\'s; with --data, capped by the split)' })
          .option('policy', { type: 'string', array: true, describe: 'CheXpert uncertain labels: FINDING=ignore|zeros|ones; repeatable' })
          .option('all-views', { type: 'boolean', describe: 'CheXpert: keep lateral views too (default: frontal only)' })
          .option('equalize', { type: 'string', describe: 'Image contrast for --data: none (default), normalise or clahe' })
          .option('augment', { type: 'string', describe: 'Random affine augmentation of training images, e.g. rotate=10,translate=0.05,scale=0.1,flip' })
          .option('on-bad-image', { type: 'string', describe: 'fail (default) or skip: unreadable images are left out and counted in the report' })
          .option('pretrain-data', { type: 'string', describe: 'Labelled images for pretraining: an image folder, Fashion-MNIST idx files, or "fashion-mnist" (Debian\'s dataset-fashion-mnist)' })
          .option('resume', { type: 'string', describe: 'Continue the interrupted study in this run directory (its results.json): finished runs are kept, the rest run' })
          .option('pretrain-format', { type: 'string', describe: `Format of --pretrain-data: folder or fashion-mnist (default: detected)` })
          .option('cache-dir', { type: 'string', describe: `Pretrained-weight and decoded-image cache (default ${defaultCacheDir()})` })
          .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
          .option('json', { type: 'boolean', default: false, describe: 'Progress as JSON lines on stdout' }),
      async (args) => {
        try {
          if (args.resume !== undefined) {
            // The study is the one the directory records: flags that would change it are refused, not ignored.
            const changing = ['preset', 'threshold', 'image-size', 'out', 'seed', 'models', 'weights', 'device', 'precision', 'channels-last', 'data', 'format',
              'image-dir', 'train-size', 'val-size', 'policy', 'all-views', 'equalize', 'augment', 'on-bad-image', 'pretrain-data', 'pretrain-format'];
            const given = changing.filter((f) => argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`)));
            if (given.length || args.experiment !== 'table1')
              throw new TransfusionError('ERR_INVALID_ARG', `--resume continues the study recorded in ${args.resume}/results.json; drop ${given.length ? given.map((f) => `--${f}`).join(', ') : `the experiment "${args.experiment}"`}`);
            if (args.threads !== undefined) setThreads(args.threads);
            const outDir = path.resolve(args.resume);
            await runStudy(resumeSpec(outDir), { outDir, resume: true, cacheDir: args['cache-dir'], onProgress: progressPrinter(process.stderr, args.json ? 'json' : args.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'lines') });
            if (!args.quiet && !args.json) process.stdout.write(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8'));
            return;
          }
          const spec = experimentSpec(args.experiment, args.preset);
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
          });
          if (args.data !== undefined) {
            const policy = args.policy ? Object.fromEntries(Object.entries(parseAssignments('--policy', args.policy)).map(([f, p]) => [f, checkOneOf(`--policy ${f}`, p, UNCERTAINTY_POLICIES)])) : undefined;
            spec.task = { ...spec.task, source: 'files', data: { ...dataSpec(args.data, args.format, '--data'), ...(policy ? { policy } : {}), ...(args['all-views'] ? { frontalOnly: false } : {}) } };
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
          if (args['train-size'] !== undefined) spec.task.trainSize = checkInteger('--train-size', args['train-size'], 2);
          if (args['val-size'] !== undefined) spec.task.valSize = checkInteger('--val-size', args['val-size'], 2);
          for (const t of [spec.train, spec.pretrain]) {
            if (args.precision !== undefined) t.precision = checkOneOf('--precision', args.precision, ['fp32', 'bf16'] as const);
            if (args['channels-last'] !== undefined) t.channelsLast = args['channels-last'];
          }
          if (args.threads !== undefined) setThreads(args.threads);
          const outDir = path.resolve(args.out ?? path.join('runs', `${spec.name}-${timestamp()}`));
          const controller = new AbortController();
          const onSignal = () => controller.abort();
          process.once('SIGINT', onSignal);
          const mode = args.json ? 'json' : args.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'lines';
          try {
            await runStudy(spec, {
              outDir,
              cacheDir: args['cache-dir'],
              signal: controller.signal,
              onProgress: progressPrinter(process.stderr, mode),
            });
          } finally {
            process.removeListener('SIGINT', onSignal);
          }
          if (!args.quiet && !args.json) process.stdout.write(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8'));
        } catch (err) {
          fail(err);
        }
      },
    )
    .command(
      'report <dir>',
      'Rebuild report.md of a run directory from its results.json alone, and print it',
      (y) => y.positional('dir', { type: 'string', demandOption: true, describe: 'A run directory' }).example('$0 report runs/quick-2026-11-27T01-27-07', ''),
      (args) => {
        try {
          const results = readResults(path.resolve(args.dir));
          const md = renderReport(results);
          writeFileAtomic(path.join(path.resolve(args.dir), 'report.md'), md);
          process.stdout.write(md);
        } catch (err) {
          fail(err);
        }
      },
    )
    .command(
      'list',
      'Experiments, presets, models and data formats',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'As JSON' }),
      (args) => {
        const listing = {
          experiments: Object.values(EXPERIMENTS).map((e) => ({ name: e.name, figure: e.figure, description: e.description })),
          presets: Object.values(PRESETS).map((p) => ({ name: p.name, why: p.why })),
          models: listModels().map((m) => m.name),
          formats: [...DATA_FORMATS],
        };
        if (args.json) process.stdout.write(JSON.stringify(listing, null, 2) + '\n');
        else {
          process.stdout.write('experiments:\n' + listing.experiments.map((e) => `  ${e.name.padEnd(14)} ${e.figure.padEnd(9)} ${e.description}`).join('\n') + '\n');
          process.stdout.write('presets:\n' + listing.presets.map((p) => `  ${p.name.padEnd(14)} ${p.why}`).join('\n') + '\n');
          process.stdout.write(`models: ${listing.models.join(', ')}\nformats (--data): ${listing.formats.join(', ')}\n`);
        }
      },
    )
    .command(
      'cca <a> <b>',
      'Similarity of two activation arrays (.npy): mean CCA, SVCCA, PWCCA, linear CKA and the canonical correlations',
      (y) =>
        y
          .positional('a', { type: 'string', demandOption: true, describe: 'First .npy file' })
          .positional('b', { type: 'string', demandOption: true, describe: 'Second .npy file (same datapoints)' })
          .option('layout', { type: 'string', default: 'datapoints-first', describe: `One of ${LAYOUTS.join(', ')}` })
          .option('metrics', { type: 'string', describe: `Comma-separated subset of ${CLI_METRICS.join(', ')}` })
          .option('subsample', { type: 'number', describe: 'nchw: positions to keep (same on both sides)' })
          .option('seed', { type: 'number', default: 0, describe: 'Seed of the position subsample' })
          .option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
      async (args) => {
        try {
          const layout = checkOneOf('--layout', args.layout, LAYOUTS);
          const metrics = (args.metrics ?? CLI_METRICS.join(',')).split(',').map((m) => checkOneOf('--metrics', m.trim(), CLI_METRICS));
          const [a, b] = await Promise.all([readNpy(args.a as string), readNpy(args.b as string)]);
          const r = await similarity(a, b, { layout, subsample: args.subsample, seed: args.seed });
          const picked = pickMetrics(r, metrics);
          if (args.json) {
            process.stdout.write(JSON.stringify(picked) + '\n');
            return;
          }
          for (const [k, v] of Object.entries(picked))
            process.stdout.write(`${k.padEnd(18)} ${Array.isArray(v) ? v.map((x) => x.toFixed(6)).join(' ') : (v as number).toFixed(6)}\n`);
          process.stdout.write(
            `(${r.datapoints} datapoints; neurons ${r.neurons.join(' / ')}; dead neurons dropped ${r.dead_neurons.join(' / ')}; ` +
              `SVCCA kept ${r.svcca_kept.join(' / ')} directions)\n`,
          );
        } catch (err) {
          fail(err);
        }
      },
    )
    .command(
      'models',
      'List the model registry with both parameter counts',
      (y) => y.option('json', { type: 'boolean', default: false }),
      (args) => {
        try {
          const models = listModels();
          if (args.json) {
            process.stdout.write(JSON.stringify(models, null, 2) + '\n');
            return;
          }
          for (const m of models)
            process.stdout.write(
              `${m.name.padEnd(20)} ${m.displayName.padEnd(26)} paper ${m.params.paper.toLocaleString('en-US').padStart(11)}  numel ${m.params.numel.toLocaleString('en-US').padStart(11)}  ${m.description}\n`,
            );
        } catch (err) {
          fail(err);
        }
      },
    )
    .strict()
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`transfusion-native: ${msg}\n`);
      exitCode = 2;
    })
    .help()
    .parseAsync();
  return exitCode;
}
