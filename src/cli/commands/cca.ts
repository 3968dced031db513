// `cca <a> <b>`: the similarity of two activation files (.npy).
import { checkOneOf } from '../../errors';
import { LAYOUTS, pickMetrics, readNpy, similarity, type Metric } from '../../similarity/similarity';
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
        .option('metrics', { type: 'string', describe: `Comma-separated subset of ${CLI_METRICS.join(', ')}` })
        .option('subsample', { type: 'number', describe: 'nchw: positions to keep (same on both sides)' })
        .option('seed', { type: 'number', default: 0, describe: 'Seed of the position subsample' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
        .example('$0 cca a.npy b.npy --json', 'Two (datapoints, neurons) arrays')
        .example('$0 cca conv_a.npy conv_b.npy --layout nchw --subsample 20000', 'Conv activations, channels as neurons'),
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
        ctx.fail(err);
      }
    },
  );

/** What `cca` prints by default, keys exactly as in google/svcca's vocabulary. */
const CLI_METRICS: readonly Metric[] = ['mean_cca', 'svcca_mean', 'pwcca', 'linear_cka', 'cca_coefficients'];
