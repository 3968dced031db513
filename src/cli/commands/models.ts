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
        for (const m of models)
          process.stdout.write(
            `${m.name.padEnd(20)} ${m.displayName.padEnd(26)} paper ${m.params.paper.toLocaleString('en-US').padStart(11)}  numel ${m.params.numel.toLocaleString('en-US').padStart(11)}  ${m.description}\n`,
          );
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
