// `compare <a> <b>`: two models' weight files layer by layer, a minibatch CKA heatmap over a probe set (embedded retina
// images, or the validation split of the user's data), printed, or written as JSON, SVG and PNG.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { generateRetina, type Dataset } from '../../data/embedded';
import { loadData } from '../../data/files/load';
import { DATA_FORMATS, type DataFormat } from '../../data/files/formats';
import { TransfusionError, checkInteger, checkOneOf } from '../../errors';
import { modelOptionsFor } from '../../experiments/architecture';
import { writeFileAtomic } from '../../io/atomic';
import { makeDirectory } from '../../io/mkdir';
import { LIMITS } from '../../limits';
import { displayPath } from '../../io/paths';
import { modelNamed, listModels, readTensor, type Model } from '../../models';
import { renderFigure } from '../../report/figures';
import { heatmapFigure } from '../../report/heatmap';
import { minibatchCka, type CkaHeatmap } from '../../similarity/heatmap';
import { defineCommand, type CliContext } from '../command';

const OUTPUTS = ['heatmap.json', 'heatmap.svg', 'heatmap.png'];

export const compareCommand = (ctx: CliContext) =>
  defineCommand(
    'compare <a> <b>',
    'Every layer of one model against every layer of another (weight files), by minibatch linear CKA over a probe set: a heatmap',
    (y) =>
      y
        .positional('a', { type: 'string', demandOption: true, describe: 'Weight file of the first model (rows)' })
        .positional('b', { type: 'string', demandOption: true, describe: 'Weight file of the second model (columns)' })
        .option('model', { type: 'string', demandOption: true, describe: 'Architecture of a (and of b without --model-b): a name from `models`' })
        .option('model-b', { type: 'string', describe: "Architecture of b when it differs from a's" })
        .option('data', { type: 'string', describe: 'Probe images: the validation split of this dataset (default: embedded retina images)' })
        .option('format', { type: 'string', describe: `Format of --data (detected when absent): ${DATA_FORMATS.join(', ')}` })
        .option('size', { type: 'number', describe: "Image side in px (default 64, raised to the models' minimum)" })
        .option('probe', { type: 'number', default: 256, describe: 'Probe images (at most this many of --data)' })
        .option('layers', { type: 'string', default: 'all', describe: 'all: every block and conv output; stages: the named stages' })
        .option('batch', { type: 'number', default: 64, describe: 'Images per minibatch (at least 4)' })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the probe images (embedded) or of the sample of --data' })
        .option('cache-dir', { type: 'string', describe: 'Where decoded images of --data are kept' })
        .option('out', { type: 'string', describe: 'Write heatmap.json, heatmap.svg and heatmap.png into this directory (refused where they exist)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the heatmap as JSON' })
        .example('$0 compare random.safetensors transfer.safetensors --model resnet50 --out heatmap', 'Two ResNet-50s on embedded probe images')
        .example('$0 compare a.pt b.pt --model cbr-small --data ~/kaggle/eyepacs --probe 512', 'On your own images'),
    async (args) => {
      try {
        const files = [args.a as string, args.b as string];
        const names = [args.model, args['model-b'] ?? args.model].map((m) => m.trim().toLowerCase());
        const known = listModels();
        const infos = names.map((n, i) => known.find((m) => m.name === n) ?? failModel(i === 0 ? '--model' : '--model-b', n, known.map((m) => m.name)));
        const layers = checkOneOf('--layers', args.layers, ['all', 'stages'] as const);
        const probe = checkInteger('--probe', args.probe, 4, 100_000);
        const batchSize = checkInteger('--batch', args.batch, 4, 65_536);
        const seed = checkInteger('--seed', args.seed, 0);
        const size = Math.max(args.size === undefined ? 64 : checkInteger('--size', args.size, LIMITS.imageSize.min, LIMITS.imageSize.max), ...infos.map((m) => m.minInputSize));
        if (args.out !== undefined) {
          const taken = OUTPUTS.map((f) => path.join(args.out!, f)).filter((f) => fs.existsSync(f));
          if (taken.length) throw new TransfusionError('ERR_INVALID_ARG', `${taken.map(displayPath).join(', ')} exist${taken.length === 1 ? 's' : ''}: choose another --out (nothing is replaced)`);
        }
        const models: Model[] = [];
        let data: Dataset | undefined;
        try {
          for (let i = 0; i < 2; ++i) models.push(await loadModel(files[i], infos[i].name, size));
          data = await probeSet(args.data, args.format as DataFormat | undefined, probe, size, seed, args['cache-dir']);
          const h = await minibatchCka(models[0], models[1], data, { layers, batchSize });
          const result = { a: { file: files[0], model: infos[0].name }, b: { file: files[1], model: infos[1].name }, size, layers, ...h };
          if (args.out !== undefined) await writeHeatmap(args.out, result);
          if (args.json) process.stdout.write(JSON.stringify(result) + '\n');
          else printHeatmap(h);
        } finally {
          [...models, data].forEach((x) => x?.dispose());
        }
      } catch (err) {
        ctx.fail(err);
      }
    },
  );

function failModel(flag: string, name: string, known: string[]): never {
  throw new TransfusionError('ERR_INVALID_ARG', `Expected \`${flag}\` to be one of ${known.join(', ')} but received "${name}"`);
}

/** The model with the weights of `file`, its classifier sized from the file's own head. */
async function loadModel(file: string, name: string, size: number): Promise<Model> {
  const info = listModels().find((m) => m.name === name)!;
  const head = `${info.stages.at(-1)}.weight`;
  const weight = await readTensor(file, head).catch((err: unknown) => {
    throw new TransfusionError((err as TransfusionError).code ?? 'ERR_BAD_DATA', `${displayPath(file)}: ${(err as Error).message} (is it a ${name}?)`);
  });
  const net = modelNamed(name, modelOptionsFor(info, size, { numClasses: weight.shape[0] }));
  try {
    const report = await net.loadWeights(file);
    const wrong = [...report.missing.map((k) => `missing ${k}`), ...report.mismatched.map((k) => `mismatched ${k}`)];
    if (wrong.length) throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} does not hold a ${name}: ${wrong.slice(0, 5).join(', ')}${wrong.length > 5 ? ` and ${wrong.length - 5} more` : ''}`);
    return net;
  } catch (err) {
    net.dispose();
    throw err;
  }
}

async function probeSet(data: string | undefined, format: DataFormat | undefined, count: number, size: number, seed: number, cacheDir?: string): Promise<Dataset> {
  if (data === undefined) return generateRetina({ count, size, seed });
  const loaded = await loadData({ path: data, ...(format ? { format: checkOneOf('--format', format, DATA_FORMATS) } : {}) }, { size, valSize: count, trainSize: 1, seed, cacheDir });
  loaded.train.dispose();
  return loaded.val;
}

type Compared = CkaHeatmap & { a: { file: string; model: string }; b: { file: string; model: string }; size: number; layers: string };

async function writeHeatmap(out: string, r: Compared): Promise<void> {
  makeDirectory(out, '--out');
  const title = `${r.a.model} ${path.basename(r.a.file)} (rows) vs ${r.b.model} ${path.basename(r.b.file)}`;
  const figure = heatmapFigure('heatmap', title, '', '', [{ title, rowsTitle: path.basename(r.a.file), columnsTitle: path.basename(r.b.file), layersA: r.stagesA, layersB: r.stagesB, values: r.values }]);
  const { svg, png } = await renderFigure(figure.spec);
  writeFileAtomic(path.join(out, 'heatmap.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileAtomic(path.join(out, 'heatmap.svg'), svg);
  writeFileAtomic(path.join(out, 'heatmap.png'), png);
  process.stderr.write(`transfusion-native: wrote ${OUTPUTS.map((f) => displayPath(path.join(out, f))).join(', ')}\n`);
}

/** Each of a's layers: its CKA with b's layer of the same name (where b has it) and b's most similar layer. */
function printHeatmap(h: CkaHeatmap): void {
  const width = Math.max(...h.stagesA.map((s) => s.length), ...h.stagesB.map((s) => s.length));
  const show = (v: number | null | undefined) => (v === null || v === undefined ? '   —  ' : v.toFixed(4));
  process.stdout.write(`${'layer of a'.padEnd(width)}  same   ${'most similar in b'.padEnd(width)}  CKA\n`);
  h.stagesA.forEach((layer, i) => {
    const j = h.stagesB.indexOf(layer);
    let best = -1;
    h.values[i].forEach((v, k) => {
      if (v !== null && (best < 0 || v > h.values[i][best]!)) best = k;
    });
    process.stdout.write(`${layer.padEnd(width)}  ${show(j < 0 ? undefined : h.values[i][j])} ${(best < 0 ? '—' : h.stagesB[best]).padEnd(width)}  ${show(best < 0 ? null : h.values[i][best])}\n`);
  });
  process.stdout.write(`(${h.images} images in ${h.batches} minibatches)\n`);
}
