// `report <dirs..>`: the report of a run directory rebuilt from results.json, or shards merged first.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../../errors';
import { mergeShards } from '../../experiments/merge';
import { readResults } from '../../experiments/results';
import { readParts, readReproduction, recordKind } from '../../experiments/reproduce';
import { writePaperReport } from '../../report/paper';
import { writeReport } from '../../report/write';
import { terminalSafe } from '../../io/paths';
import { defineCommand, type CliContext } from '../command';

export const reportCommand = (ctx: CliContext) =>
  defineCommand(
    'report <dirs..>',
    'Rebuild the report of a run directory from its results.json alone (report.md, report.html, figures/*.svg and *.png) and print report.md; ' +
      'given the run directories of a study\'s shards (run --shard i/N), merge them into --out first',
    (y) =>
      y
        .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'A run directory, or every shard\'s' })
        .option('out', { type: 'string', describe: 'Where the merged study goes (with several shard directories)' })
        .example('$0 report runs/quick-2026-11-27T01-27-07', '')
        .example('$0 report runs/shard-* --out runs/merged', 'Merge the shards of a study run as a job array'),
    async (args) => {
      try {
        const dirs = (args.dirs as string[]).map((d) => path.resolve(d));
        let dir = dirs[0];
        if (dirs.length === 1 && recordKind(dir) === 'reproduction') {
          if (args.out !== undefined) throw new TransfusionError('ERR_INVALID_ARG', 'A reproduction\'s report is written in its own directory: drop --out');
          // A reproduction's directory: its one report, from its record and its studies' results.
          const record = readReproduction(dir);
          const { files, warnings } = await writePaperReport(dir, record, readParts(dir, record));
          for (const w of warnings) process.stderr.write(`transfusion-native: ${w}\n`);
          process.stderr.write(`wrote ${files.length} files: ${path.join(dir, 'report.md')}, ${path.join(dir, 'report.html')}, ${path.join(dir, 'figures')}/\n`);
          process.stdout.write(terminalSafe(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')));
          return;
        }
        if (dirs.length > 1 || readResults(dirs[0]).shard) {
          if (args.out === undefined) throw new TransfusionError('ERR_INVALID_ARG', 'Expected `--out` (where the merged study goes) with the shards of a study');
          dir = path.resolve(args.out);
          const merged = mergeShards(dirs, dir);
          process.stderr.write(`merged ${dirs.length} shard(s), ${merged.runs.length} runs, into ${dir}\n`);
        } else if (args.out !== undefined) throw new TransfusionError('ERR_INVALID_ARG', '`--out` is for merging shards; a single run directory is reported in place');
        const { files, warnings } = await writeReport(dir, readResults(dir));
        for (const w of warnings) process.stderr.write(`transfusion-native: ${w}\n`);
        const named = ['report.md', 'report.html', 'runs.csv', 'curves.csv'].map((f) => path.join(dir, f));
        process.stderr.write(`wrote ${files.length} files: ${named.join(', ')}${files.some((f) => f.includes(`${path.sep}figures${path.sep}`)) ? `, ${path.join(dir, 'figures')}/` : ''}\n`);
        process.stdout.write(terminalSafe(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')));
      } catch (err) {
        ctx.fail(err);
      }
    },
  );

