// `schema`: the JSON Schema of a study file.
import { STUDY_CONFIG_SCHEMA } from '../../experiments/config';
import { defineCommand, type CliContext } from '../command';

export const schemaCommand = (ctx: CliContext) =>
  defineCommand(
    'schema',
    'Print the JSON Schema of a study file (run --config)',
    (y) => y.example('$0 schema > study.schema.json', ''),
    () => {
      process.stdout.write(JSON.stringify(STUDY_CONFIG_SCHEMA, null, 2) + '\n');
    },
  );
