// `cca <a> <b>`: the similarity of two activation files (.npy).
import { TransfusionError, checkOneOf } from '../../errors';
import { displayPath } from '../../io/paths';
import { LAYOUTS, METRICS, pickMetrics, readNpy, similarity, type ActivationArray, type Layout, type Metric } from '../../similarity/similarity';
import { defineCommand, type CliContext } from '../command';

export const ccaCommand = (ctx: CliContext) =>
  defineCommand(
    'cca <a> <b>',
    'Similarity of two activation arrays (.npy): mean CCA, SVCCA, PWCCA, linear CKA and the canonical correlations',
    (y) =>
      y
        .positional('a', { type: 'string', demandOption: true, describe: 'First .npy file' })
        .positional('b', { type: 'string', demandOption: true, describe: 'Second .npy file (same datapoints)' })
        .option('layout', { type: 'string', default: 'datapoints-first', describe: `One of ${LAYOUTS.join(', ')}` })
        .option('metrics', { type: 'string', describe: `Comma-separated, any of ${METRICS.join(', ')} (default ${CLI_METRICS.join(',')})` })
        .option('rbf-bandwidth', { type: 'number', default: 1, describe: 'rbfCka: sigma as a fraction of the median pairwise distance' })
        .option('subsample', { type: 'number', describe: 'nchw: positions to keep (same on both sides)' })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the position subsample' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
        .example('$0 cca a.npy b.npy --json', 'Two (datapoints, neurons) arrays')
        .example('$0 cca a.npy b.npy --metrics linearCka,debiasedLinearCka', 'CKA, plain and debiased')
        .example('$0 cca a.npy b.npy --metrics rbfCka --rbf-bandwidth 0.5', 'RBF CKA alone (computed only when named)')
        .example('$0 cca conv_a.npy conv_b.npy --layout nchw --subsample 20000', 'Conv activations, channels as neurons'),
    async (args) => {
      try {
        const layout = checkOneOf('--layout', args.layout, LAYOUTS);
        const metrics = (args.metrics ?? CLI_METRICS.join(',')).split(',').map((m) => checkOneOf('--metrics', m.trim(), METRICS));
        const files = [args.a as string, args.b as string];
        const [a, b] = await Promise.all(files.map((f) => readNpy(f)));
        checkSameDatapoints([a, b], files, layout);
        const r = await similarity(a, b, { layout, subsample: args.subsample, seed: args.seed, metrics, rbfBandwidth: args['rbf-bandwidth'] }).catch((err: unknown) => {
          throw nameInputs(err, files);
        });
        const picked = pickMetrics(r, metrics);
        if (args.json) {
          process.stdout.write(JSON.stringify(picked) + '\n');
          return;
        }
        for (const [k, v] of Object.entries(picked))
          process.stdout.write(`${k.padEnd(18)} ${Array.isArray(v) ? v.map((x) => x.toFixed(6)).join(' ') : (v as number).toFixed(6)}\n`);
        process.stdout.write(
          `(${r.datapoints} datapoints; neurons ${r.neurons.join(' / ')}; dead neurons dropped ${r.deadNeurons.join(' / ')}; ` +
            `SVCCA kept ${r.svccaKept.join(' / ')} directions)\n`,
        );
      } catch (err) {
        ctx.fail(err);
      }
    },
  );

/** What `cca` prints by default: google/svcca's quantities, under the library's camelCase names (mean_cca is meanCca). */
const CLI_METRICS: readonly Metric[] = ['meanCca', 'svccaMean', 'pwcca', 'linearCka', 'ccaCoefficients'];

/**
 * The engine names its arrays by position ("input 0", "input 1"); here they are files, and the message says which.
 * The code and the rest of the message are the engine's.
 */
function nameInputs(err: unknown, files: string[]): unknown {
  if (!(err instanceof Error) || !/\binput [01]\b/.test(err.message)) return err;
  const message = err.message.replace(/\binput ([01])\b/g, (_, i: string) => displayPath(files[Number(i)]));
  const code = (err as { code?: string }).code;
  return code ? Object.assign(new TransfusionError(code as TransfusionError['code'], message), { stack: err.stack }) : new Error(message);
}

/** Datapoints of an array in a layout (undefined where its rank does not fit: the engine names that). */
function datapoints(shape: number[], layout: Layout): number | undefined {
  if (layout === 'nchw') return shape.length === 4 ? shape[0] * shape[2] * shape[3] : undefined;
  if (shape.length !== 2) return undefined;
  return layout === 'datapoints-first' ? shape[0] : shape[1];
}

function checkSameDatapoints(arrays: ActivationArray[], files: string[], layout: Layout): void {
  const [p, q] = arrays.map((x) => datapoints(x.shape, layout));
  if (p !== undefined && q !== undefined && p !== q)
    throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(files[0])} has ${p} datapoints but ${displayPath(files[1])} has ${q} (layout ${layout}): the two must hold the same datapoints`);
}
