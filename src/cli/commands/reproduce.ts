// `reproduce`: the whole paper, Tables 1-3 and Figures 2-8 with the findings scorecard, as one resumable study.
import * as path from 'node:path';

import { TransfusionError, checkInteger, checkOneOf } from '../../errors';
import { distributedFromEnv } from '../../distributed';
import { joinFromEnv } from '../launch';
import { DATA_FORMATS, resolveDataPath } from '../../data/files/formats';
import { defaultRunDir } from '../../experiments/outdir';
import { PRESETS } from '../../experiments/presets';
import { mergeReproductions, readReproduction, reproduce, type ReproduceEvent } from '../../experiments/reproduce';
import { describeEstimate, estimatePlan } from '../../experiments/estimate';
import { reproducePlan, type ReproduceRequest } from '../../experiments/reproduce-plan';
import { writePaperReport } from '../../report/paper';
import { studyReport } from '../../report/write';
import { cudaAvailable, checkThreads, setThreads } from '../../runtime';
import { printReport, progressMode, progressPrinter } from '../progress';
import { parseShard } from './run';
import { givenFlags } from '../run-options';
import { defineCommand, type CliContext } from '../command';
import { untilStopped } from '../stop';

export const reproduceCommand = (ctx: CliContext) =>
  defineCommand(
    'reproduce',
    'The whole paper as one study: Tables 1-3 and Figures 2-8 from models trained once each, one report in the paper\'s order ' +
      'with a scorecard of its findings (default preset "laptop": every model learns the embedded tasks on a CPU)',
    (y) =>
      y
        .option('preset', { type: 'string', default: 'laptop', describe: `Scale preset: ${Object.keys(PRESETS).join(', ')}` })
        .option('models', { type: 'string', describe: 'Comma-separated models instead of the preset\'s' })
        .option('seeds', { type: 'number', describe: 'Seeds 0..N-1 instead of the preset\'s' })
        .option('data', { type: 'string', describe: 'Your dataset instead of the embedded tasks (the chest task is then not run)' })
        .option('format', { type: 'string', describe: `Format of --data: ${DATA_FORMATS.join(', ')} (default: detected)` })
        .option('out', { type: 'string', describe: 'The reproduction\'s directory (default runs/reproduce-<preset>-<time>)' })
        .option('resume', { type: 'string', describe: 'Continue the reproduction in this directory' })
        .option('overwrite', { type: 'boolean', describe: 'Start afresh in an --out directory that holds a reproduction' })
        .option('shard', { type: 'string', describe: 'Run shard INDEX/COUNT of every study (job arrays); merge with --merge' })
        .option('estimate', { type: 'boolean', describe: 'Print the estimated time of each study (from a few measured training steps per model) and stop; the paper preset prints it before it starts' })
        .option('merge', { type: 'string', array: true, describe: 'Merge the shard directories of a reproduction into --out, then analyse and report' })
        .option('threads', { type: 'number', describe: 'LibTorch threads (default: available cores)' })
        .option('concurrency', { type: 'number', describe: 'CPU: training runs in flight at once' })
        .option('cache-dir', { type: 'string', describe: 'Pretrained-weight and decoded-image cache' })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
        .option('json', { type: 'boolean', default: false, describe: 'Progress as JSON lines on stdout' })
        .example('$0 reproduce', 'The whole paper at the laptop preset into runs/reproduce-laptop-<time>')
        .example('$0 reproduce --preset paper --data ~/eyepacs --out runs/paper', 'The paper\'s scale on your data, on a GPU')
        .example('$0 reproduce --resume runs/reproduce-laptop-2026-12-06T20-00-00', 'Continue an interrupted reproduction')
        .example('$0 reproduce --shard 0/4 --out runs/r0', 'The first of four shards; then: reproduce --merge runs/r0 runs/r1 runs/r2 runs/r3 --out runs/r'),
    async (args) => {
      try {
        if (args.threads !== undefined) setThreads(checkThreads('--threads', args.threads));
        const concurrency = args.concurrency === undefined ? undefined : checkInteger('--concurrency', args.concurrency, 1, 64);
        const shard = args.shard !== undefined ? parseShard(args.shard) : undefined;
        // Flags that would be ignored are refused instead (issue 28's third pass): the record decides a resumed or
        // merged reproduction, and --format reads --data.
        const refuse = (mode: string, flags: string[]) => {
          const extra = givenFlags(ctx.argv, flags);
          if (extra.length) throw new TransfusionError('ERR_INVALID_ARG', `${mode}: drop ${extra.map((f) => `--${f}`).join(', ')}`);
        };
        if (args.format !== undefined && args.data === undefined) throw new TransfusionError('ERR_INVALID_ARG', '--format names the format of --data: give --data too, or drop --format');
        let outDir: string;
        let request: ReproduceRequest | undefined;
        let resume = args.resume !== undefined;
        if (args.merge !== undefined) {
          refuse('--merge takes the shards\' own request', ['preset', 'models', 'seeds', 'data', 'format', 'shard', 'resume', 'estimate', 'overwrite']);
          // One process merges: under launch every rank would write the same --out (and find the others' record).
          if (distributedFromEnv())
            throw new TransfusionError('ERR_INVALID_ARG', '--merge runs in one process: run it without launch, then continue data-parallel with `launch --nproc N -- reproduce --resume DIR`');
          if (args.out === undefined) throw new TransfusionError('ERR_INVALID_ARG', 'Expected `--out` (where the merged reproduction goes) with --merge');
          outDir = path.resolve(args.out);
          mergeReproductions((args.merge as string[]).map((d) => path.resolve(d)), outDir);
          resume = true;
        } else if (args.resume !== undefined) {
          refuse(`--resume continues the reproduction in ${args.resume}`, ['preset', 'models', 'seeds', 'data', 'format', 'shard', 'out', 'overwrite']);
          outDir = path.resolve(args.resume);
        } else {
          checkOneOf('--preset', args.preset, Object.keys(PRESETS));
          request = {
            preset: args.preset,
            ...(args.models !== undefined ? { models: args.models.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean) } : {}),
            ...(args.seeds !== undefined ? { seeds: Array.from({ length: checkInteger('--seeds', args.seeds, 1, 100) }, (_, i) => i) } : {}),
            ...(args.data !== undefined ? { data: { path: resolveDataPath(args.data, '--data'), ...(args.format !== undefined ? { format: checkOneOf('--format', args.format, DATA_FORMATS) } : {}) } } : {}),
          };
          outDir = args.out !== undefined ? path.resolve(args.out) : defaultRunDir(`reproduce-${args.preset}`);
        }
        if (args.estimate || (request?.preset === 'paper' && cudaAvailable() && !args.quiet)) {
          // A short probe on this machine (a few training steps per model and input size), before hours of training.
          const e = await estimatePlan(reproducePlan(request ?? readReproduction(outDir).request));
          process.stderr.write(describeEstimate(e).join('\n') + '\n');
          if (args.estimate) return;
        }
        const group = await joinFromEnv('reproduction', request ?? readReproduction(outDir).request);
        const speaks = !group || group.rank === 0;
        const mode = speaks || args.json ? progressMode(process.stderr, args) : 'quiet';
        const print = progressPrinter(process.stderr, mode);
        const onProgress = (e: ReproduceEvent) => {
          if (e.kind !== 'part') return print(e);
          if (mode === 'json') process.stdout.write(JSON.stringify(e) + '\n');
          else if (mode !== 'quiet') process.stderr.write(`\n== ${e.index}/${e.total} ${e.name} (${e.serves}) -> ${e.outDir}\n`);
        };
        await untilStopped(ctx, outDir, `transfusion-native reproduce --resume ${outDir}`, group, async (signal) => {
          const record = await reproduce(request, {
            outDir,
            resume,
            ...(args.overwrite ? { overwrite: true } : {}),
            ...(shard ? { shard } : {}),
            ...(group ? { group } : {}),
            ...(concurrency ? { concurrency } : {}),
            ...(args['cache-dir'] !== undefined ? { cacheDir: path.resolve(args['cache-dir']) } : {}),
            signal,
            onProgress,
            writeReport: writePaperReport,
            studyReport,
          });
          if (speaks && record.finishedAt && mode !== 'quiet' && mode !== 'json') printReport(outDir);
          else if (speaks && shard && mode !== 'quiet') process.stderr.write(`shard ${shard.index}/${shard.count} done in ${outDir}; merge the shards with: transfusion-native reproduce --merge DIRS.. --out DIR\n`);
        });
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
