// `schema`: the JSON Schema of a study file, printed or written where an editor can reference it.
import * as fs from 'node:fs';

import { TransfusionError } from '../../errors';
import { STUDY_CONFIG_SCHEMA } from '../../experiments/config';
import { writeFileAtomic } from '../../io/atomic';
import { displayPath } from '../../io/paths';
import { defineCommand, type CliContext } from '../command';

export const schemaCommand = (ctx: CliContext) =>
  defineCommand(
    'schema',
    'Print the JSON Schema of a study file (run --config), or write it with --out for an editor to reference ("$schema")',
    (y) =>
      y
        .option('out', { type: 'string', describe: 'Write the schema to this file (atomically) instead of printing it' })
        .option('overwrite', { type: 'boolean', default: false, describe: 'Replace a different file already at --out' })
        .example('$0 schema --out study.schema.json', 'then start a study file with "$schema": "./study.schema.json"')
        .example('$0 schema > study.schema.json', ''),
    (args) => {
      try {
        const text = JSON.stringify(STUDY_CONFIG_SCHEMA, null, 2) + '\n';
        if (args.out === undefined) {
          process.stdout.write(text);
          return;
        }
        // Nothing a user made is replaced silently: the same schema again is fine, another file needs --overwrite.
        if (fs.existsSync(args.out) && !args.overwrite && fs.readFileSync(args.out, 'utf8') !== text)
          throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(args.out)} exists and is not this schema; choose another --out or add --overwrite`);
        writeFileAtomic(args.out, text);
        process.stderr.write(`transfusion-native: wrote the study schema to ${displayPath(args.out)}\n`);
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
