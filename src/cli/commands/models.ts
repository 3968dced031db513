// `models`: the model registry with parameter counts.
import { listModels } from '../../models';
import { defineCommand, type CliContext } from '../command';

export const modelsCommand = (ctx: CliContext) =>
  defineCommand(
    'models',
    'List the model registry with both parameter counts',
    (y) => y.option('json', { type: 'boolean', default: false, describe: 'As JSON' }).example('$0 models', ''),
    (args) => {
      try {
        const models = listModels();
        if (args.json) {
          process.stdout.write(JSON.stringify(models, null, 2) + '\n');
          return;
        }
        // Columns as wide as their longest entry, so every row lines up (Slim's display name is the longest).
        const nameWidth = Math.max(...models.map((m) => m.name.length)), shownWidth = Math.max(...models.map((m) => m.displayName.length));
        for (const m of models)
          process.stdout.write(
            `${m.name.padEnd(nameWidth)}  ${m.displayName.padEnd(shownWidth)}  paper ${m.params.paper.toLocaleString('en-US').padStart(11)}  numel ${m.params.numel.toLocaleString('en-US').padStart(11)}  ${m.description}\n`,
          );
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
