// `run [experiment]`: a study, from its preset or study file, resumable, sharded or data-parallel.
import * as path from 'node:path';

import { TransfusionError, checkInteger } from '../../errors';
import { distributedFromEnv } from '../../distributed';
import { joinFromEnv } from '../launch';
import { checkShard, resumeSpec, type Shard } from '../../experiments/results';
import { defaultRunDir } from '../../experiments/outdir';
import { runStudy } from '../../experiments/study';
import { studyReport } from '../../report/write';
import { checkThreads, setThreads } from '../../runtime';
import { printReport, progressMode, progressPrinter } from '../progress';
import { STUDY_FLAGS, givenFlags, runOptions, studySpecOf } from '../run-options';
import { defineCommand, type CliContext } from '../command';
import { untilStopped } from '../stop';

export const runCommand = (ctx: CliContext) =>
  defineCommand(
    'run [experiment]',
    'Run an experiment (default "table1" at preset "quick": the four CBR models, random init against transfer, 3 seeds, ' +
      'embedded RETINA-like task); also chexpert (Table 2), small-data (Table 3), similarity (Figure 2), layers (Figure 3), init-vs-final (Figure 4), ' +
      'filters (Figure 5), meanvar (Figure 6), transfusion (Figure 7), hybrids (Figure 8)',
    (y) => runOptions(y),
    async (args) => {
      try {
        if (args.threads !== undefined) setThreads(checkThreads('--threads', args.threads));
        const concurrency = args.concurrency === undefined ? undefined : checkInteger('--concurrency', args.concurrency, 1, 64);
        const checkpointEvery = args['checkpoint-every'] === undefined ? undefined : checkInteger('--checkpoint-every', args['checkpoint-every'], 0);
        const shard = args.shard !== undefined ? parseShard(args.shard) : undefined;
        // Under `launch`, torchrun, srun or a Kubernetes job: the environment names this process's rank.
        if (args['sync-bn'] && !distributedFromEnv()) throw new TransfusionError('ERR_INVALID_ARG', '--sync-bn is for data-parallel runs: start them with `transfusion-native launch --nproc N -- run ...` or torchrun-style variables');
        let spec;
        let outDir: string;
        if (args.resume !== undefined) {
          // The study is the one the directory records: flags that would change it are refused, not ignored.
          // --device alone may change: where the remaining runs train, each run recording its own (issue 31).
          const given = givenFlags(ctx.argv, STUDY_FLAGS.filter((f) => f !== 'device'));
          if (given.length || args.experiment !== 'table1')
            throw new TransfusionError('ERR_INVALID_ARG', `--resume continues the study recorded in ${args.resume}/results.json; drop ${given.length ? given.map((f) => `--${f}`).join(', ') : `the experiment "${args.experiment}"`}`);
          outDir = path.resolve(args.resume);
          spec = resumeSpec(outDir, givenFlags(ctx.argv, ['device']).length ? { device: String(args.device) } : {});
        } else {
          spec = studySpecOf(args, ctx.argv);
          // A name from a study file stays inside runs/ ("../../x" is refused by name); --out goes where it says.
          outDir = args.out !== undefined ? path.resolve(args.out) : defaultRunDir(spec.name);
        }
        // Every rank joins with its study's fingerprint: one started with another spec or version is refused there.
        const group = await joinFromEnv('study', spec);
        const speaks = !group || group.rank === 0;  // other ranks are quiet unless --json
        const mode = speaks || args.json ? progressMode(process.stderr, args) : 'quiet';
        const finished = await untilStopped(ctx, outDir, `transfusion-native run --resume ${outDir}`, group, async (signal) => {
          await runStudy(spec, {
            outDir,
            resume: args.resume !== undefined,
            ...(args.overwrite ? { overwrite: true } : {}),
            checkpointEvery,
            ...(concurrency ? { concurrency } : {}),
            ...(shard ? { shard } : {}),
            ...(group ? { group, syncBatchNorm: Boolean(args['sync-bn']) } : {}),
            cacheDir: args['cache-dir'],
            ...(args.tensorboard !== undefined ? { tensorboard: path.resolve(String(args.tensorboard)) } : {}),
            signal,
            onProgress: progressPrinter(process.stderr, mode),
            report: studyReport,
          });
        });
        if (!finished) return;
        if (speaks && mode !== 'quiet' && mode !== 'json') printReport(outDir);
      } catch (err) {
        ctx.fail(err);
      }
    },
  );

/** "2/8" -> { index: 2, count: 8 } (0-based index, as Slurm's SLURM_ARRAY_TASK_ID from 0). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) >= Number(m[2]))
    throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--shard\` as INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 0/4) but received "${text}"`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) });
}
