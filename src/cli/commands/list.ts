// `list`: experiments, presets, models, data formats and similarity metrics (the engine's table).
import { DATA_FORMAT_DESCRIPTIONS } from '../../data/files/formats';
import { EXPERIMENTS } from '../../experiments/catalog';
import { PRESETS } from '../../experiments/presets';
import { listModels } from '../../models';
import { similarityMetrics } from '../../similarity/similarity';
import { defineCommand, type CliContext } from '../command';

export const listCommand = (ctx: CliContext) =>
  defineCommand(
    'list',
    'Experiments, presets, models, data formats and similarity metrics',
    (y) => y.option('json', { type: 'boolean', default: false, describe: 'As JSON' }).example('$0 list', '').example('$0 list --json', 'For tools'),
    (args) => {
      const listing = {
        experiments: Object.values(EXPERIMENTS).map((e) => ({ name: e.name, figure: e.figure, description: e.description })),
        presets: Object.values(PRESETS).map((p) => ({ name: p.name, why: p.why })),
        models: listModels().map((m) => m.name),
        formats: DATA_FORMAT_DESCRIPTIONS.map((f) => f.name),
        metrics: similarityMetrics(),
      };
      if (args.json) process.stdout.write(JSON.stringify(listing, null, 2) + '\n');
      else {
        process.stdout.write('experiments:\n' + listing.experiments.map((e) => `  ${e.name.padEnd(14)} ${e.figure.padEnd(9)} ${e.description}`).join('\n') + '\n');
        process.stdout.write('presets:\n' + listing.presets.map((p) => `  ${p.name.padEnd(14)} ${p.why}`).join('\n') + '\n');
        process.stdout.write(`models: ${listing.models.join(', ')}\n`);
        process.stdout.write('formats (--data, --format):\n' + DATA_FORMAT_DESCRIPTIONS.map((f) => `  ${f.name.padEnd(16)} ${f.describe}`).join('\n') + '\n');
        process.stdout.write(
          'similarity metrics (cca --metrics; * computed only when named):\n' +
            listing.metrics.map((m) => `  ${(m.name + (m.byDefault ? '' : ' *')).padEnd(19)} ${m.direction.padEnd(10)} [${m.range.map((v) => +v.toFixed(4)).join(', ')}]  ${m.computes} (${m.reference})`).join('\n') + '\n',
        );
      }
    },
  );
