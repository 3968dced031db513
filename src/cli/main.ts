// The command line: a thin layer over the library (runStudy, listModels).
import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';

import { TransfusionError, checkInteger, checkOneOf } from '../errors';
import { DATA_FORMATS } from '../data/files/formats';
import { EXPERIMENTS } from '../experiments/catalog';
import { STUDY_CONFIG_SCHEMA } from '../experiments/config';
import { PRESETS } from '../experiments/presets';
import { distributedFromEnv, initProcessGroup } from '../distributed';
import { mergeShards } from '../experiments/merge';
import { checkShard, readResults, resumeSpec, type Shard } from '../experiments/results';
import { runStudy } from '../experiments/study';
import { writeReport } from '../report/write';
import { listModels } from '../models';
import { setThreads } from '../runtime';
import { LAYOUTS, pickMetrics, readNpy, similarity, type Metric } from '../similarity/similarity';
import { findPython, runBench } from './bench';
import { launch } from './launch';
import { progressMode, progressPrinter } from './progress';
import { STUDY_FLAGS, givenFlags, runOptions, studySpecOf } from './run-options';

export { parseAssignments, parseAugment, parseWeights } from './run-options';

/** What `cca` prints by default, keys exactly as in google/svcca's vocabulary. */
const CLI_METRICS: readonly Metric[] = ['mean_cca', 'svcca_mean', 'pwcca', 'linear_cka', 'cca_coefficients'];

/** "2/8" -> { index: 2, count: 8 } (0-based index, as Slurm's SLURM_ARRAY_TASK_ID from 0). */
function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) >= Number(m[2]))
    throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--shard\` as INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 0/4) but received "${text}"`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) });
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const fail = (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`transfusion-native: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`);
    exitCode = e?.code === 'ABORT_ERR' ? 130 : e?.code === 'ERR_INVALID_ARG' ? 2 : 1;
  };
  // A usage error is thrown by yargs synchronously from parseAsync (unknown flags), or rejects it: both land in fail.
  try {
    await yargs(argv)
      .scriptName('transfusion-native')
      .parserConfiguration({ 'populate--': true })
      .usage('$0 <command> [options]')
      .command(
        ['run [experiment]', '$0 [experiment]'],
        'Run an experiment (default "table1" at preset "quick": the four CBR models, random init against transfer, 3 seeds, ' +
          'embedded RETINA-like task); also chexpert (Table 2), small-data (Table 3), similarity (Figure 2), layers (Figure 3), init-vs-final (Figure 4), ' +
          'filters (Figure 5), meanvar (Figure 6), transfusion (Figure 7), hybrids (Figure 8)',
        (y) => runOptions(y),
        async (args) => {
          try {
            if (args.threads !== undefined) setThreads(checkInteger('--threads', args.threads, 1, 1024));
            const checkpointEvery = args['checkpoint-every'] === undefined ? undefined : checkInteger('--checkpoint-every', args['checkpoint-every'], 0);
            const shard = args.shard !== undefined ? parseShard(args.shard) : undefined;
            // Under `launch`, torchrun, srun or a Kubernetes job: the environment names this process's rank.
            const dist = distributedFromEnv();
            if (args['sync-bn'] && !dist) throw new TransfusionError('ERR_INVALID_ARG', '--sync-bn is for data-parallel runs: start them with `transfusion-native launch --nproc N -- run ...` or torchrun-style variables');
            const group = dist ? await initProcessGroup(dist) : undefined;
            const speaks = !group || group.rank === 0;  // other ranks are quiet unless --json
            const mode = speaks || args.json ? progressMode(process.stderr, args) : 'quiet';
            let spec;
            let outDir: string;
            if (args.resume !== undefined) {
              // The study is the one the directory records: flags that would change it are refused, not ignored.
              const given = givenFlags(argv, STUDY_FLAGS);
              if (given.length || args.experiment !== 'table1')
                throw new TransfusionError('ERR_INVALID_ARG', `--resume continues the study recorded in ${args.resume}/results.json; drop ${given.length ? given.map((f) => `--${f}`).join(', ') : `the experiment "${args.experiment}"`}`);
              outDir = path.resolve(args.resume);
              spec = resumeSpec(outDir);
            } else {
              spec = studySpecOf(args, argv);
              outDir = path.resolve(args.out ?? path.join('runs', `${spec.name}-${timestamp()}`));
            }
            const controller = new AbortController();
            const onSignal = () => controller.abort();
            process.once('SIGINT', onSignal);
            try {
              await runStudy(spec, {
                outDir,
                resume: args.resume !== undefined,
                checkpointEvery,
                ...(shard ? { shard } : {}),
                ...(group ? { group, syncBatchNorm: Boolean(args['sync-bn']) } : {}),
                cacheDir: args['cache-dir'],
                signal: controller.signal,
                onProgress: progressPrinter(process.stderr, mode),
              });
            } finally {
              process.removeListener('SIGINT', onSignal);
              group?.dispose();
            }
            if (speaks && mode !== 'quiet' && mode !== 'json') process.stdout.write(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8'));
          } catch (err) {
            fail(err);
          }
        },
      )
      .command(
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
            if (dirs.length > 1 || readResults(dirs[0]).shard) {
              if (args.out === undefined) throw new TransfusionError('ERR_INVALID_ARG', 'Expected `--out` (where the merged study goes) with the shards of a study');
              dir = path.resolve(args.out);
              const merged = mergeShards(dirs, dir);
              process.stderr.write(`merged ${dirs.length} shard(s), ${merged.runs.length} runs, into ${dir}\n`);
            } else if (args.out !== undefined) throw new TransfusionError('ERR_INVALID_ARG', '`--out` is for merging shards; a single run directory is reported in place');
            const { files, warnings } = await writeReport(dir, readResults(dir));
            for (const w of warnings) process.stderr.write(`transfusion-native: ${w}\n`);
            process.stderr.write(`wrote ${files.length} files: ${path.join(dir, 'report.md')}, ${path.join(dir, 'report.html')}${files.length > 2 ? `, ${path.join(dir, 'figures')}/` : ''}\n`);
            process.stdout.write(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'));
          } catch (err) {
            fail(err);
          }
        },
      )
      .command(
        'list',
        'Experiments, presets, models and data formats',
        (y) => y.option('json', { type: 'boolean', default: false, describe: 'As JSON' }).example('$0 list', '').example('$0 list --json', 'For tools'),
        (args) => {
          const listing = {
            experiments: Object.values(EXPERIMENTS).map((e) => ({ name: e.name, figure: e.figure, description: e.description })),
            presets: Object.values(PRESETS).map((p) => ({ name: p.name, why: p.why })),
            models: listModels().map((m) => m.name),
            formats: [...DATA_FORMATS],
          };
          if (args.json) process.stdout.write(JSON.stringify(listing, null, 2) + '\n');
          else {
            process.stdout.write('experiments:\n' + listing.experiments.map((e) => `  ${e.name.padEnd(14)} ${e.figure.padEnd(9)} ${e.description}`).join('\n') + '\n');
            process.stdout.write('presets:\n' + listing.presets.map((p) => `  ${p.name.padEnd(14)} ${p.why}`).join('\n') + '\n');
            process.stdout.write(`models: ${listing.models.join(', ')}\nformats (--data): ${listing.formats.join(', ')}\n`);
          }
        },
      )
      .command(
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
            fail(err);
          }
        },
      )
      .command(
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
            fail(err);
          }
        },
      )
      .command(
        'bench',
        'Training throughput per model (images/s, TFLOP/s) and similarity throughput (pairs/s); with --vs-python, the same step in PyTorch from Python and the ratio',
        (y) =>
          y
            .option('device', { type: 'string', default: 'cpu', describe: 'cpu or cuda' })
            .option('models', { type: 'string', default: 'cbr-tiny,cbr-small,cbr-largew,cbr-larget,resnet50', describe: 'Comma-separated models' })
            .option('batch', { type: 'number', default: 32, describe: 'Images per step' })
            .option('size', { type: 'number', default: 64, describe: 'Image side (px; raised to a model\'s minimum)' })
            .option('precision', { type: 'string', default: 'fp32', describe: 'fp32, tf32 (CUDA) or bf16 (autocast)' })
            .option('channels-last', { type: 'boolean', default: false, describe: 'NHWC weights and inputs' })
            .option('cuda-graph', { type: 'boolean', default: false, describe: 'CUDA: replay the training step as a CUDA graph (both sides)' })
            .option('steps', { type: 'number', default: 10, describe: 'Timed steps per round' })
            .option('warmup', { type: 'number', default: 3, describe: 'Untimed steps first' })
            .option('rounds', { type: 'number', default: 2, describe: 'Rounds (alternating addon and python); the best of each counts' })
            .option('vs-python', { type: 'boolean', default: false, describe: 'Also run bench/train_step.py in PyTorch from Python and print addon/python' })
            .option('python', { type: 'string', describe: 'Interpreter for --vs-python (default: python3 if it has torch, else /usr/bin/python3)' })
            .option('cca', { type: 'string', default: '8x20000x512', describe: 'Similarity: PAIRSxDATAPOINTSxNEURONS ("0" skips it)' })
            .option('threads', { type: 'number', describe: 'LibTorch threads (default: available cores)' })
            .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON' })
            .example('$0 bench --vs-python', 'CPU: the addon against PyTorch from Python, same threads')
            .example('$0 bench --device cuda --models resnet50 --size 224 --batch 256 --precision bf16 --channels-last --vs-python', 'The H100 goal'),
        async (args) => {
          try {
            if (args.threads !== undefined) setThreads(checkInteger('--threads', args.threads, 1, 1024));
            const cca = args.cca === '0' ? [0, 0, 0] : args.cca.split('x').map(Number);
            if (cca.length !== 3 || cca.some((v) => !Number.isInteger(v) || v < 0))
              throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--cca\` as PAIRSxDATAPOINTSxNEURONS (e.g. 8x20000x512) or 0 but received "${args.cca}"`);
            const options = {
              device: checkOneOf('--device', args.device.replace(/:\d+$/, ''), ['cpu', 'cuda'] as const) && args.device,
              models: args.models.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean),
              batch: checkInteger('--batch', args.batch, 1),
              size: checkInteger('--size', args.size, 16, 1024),
              precision: checkOneOf('--precision', args.precision, ['fp32', 'tf32', 'bf16'] as const),
              channelsLast: args['channels-last'],
              cudaGraph: args['cuda-graph'],
              steps: checkInteger('--steps', args.steps, 1),
              warmup: checkInteger('--warmup', args.warmup, 0),
              rounds: checkInteger('--rounds', args.rounds, 1),
              python: args['vs-python'] ? findPython(args.python) : undefined,
              similarity: { pairs: cca[0], datapoints: cca[1], neurons: cca[2] },
            };
            const results = await runBench(options, args.json ? undefined : (line) => process.stdout.write(line + '\n'));
            if (args.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
          } catch (err) {
            fail(err);
          }
        },
      )
      .command(
        'launch',
        'Start N local ranks of a data-parallel job (as torchrun does: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) running the command after --',
        (y) =>
          y
            .option('nproc', { type: 'number', demandOption: true, describe: 'Ranks to start on this machine' })
            .option('master-port', { type: 'number', describe: 'Rendezvous port (default: a free one)' })
            .example('$0 launch --nproc 2 -- run --preset quick --sync-bn', 'Table 1 with each batch split over 2 processes')
            .example('$0 launch --nproc 4 -- bench --models resnet50', ''),
        async (args) => {
          try {
            const rest = ((args as { '--'?: (string | number)[] })['--'] ?? []).map(String);
            if (!rest.length) throw new TransfusionError('ERR_INVALID_ARG', 'Expected the command to launch after --, e.g. `launch --nproc 2 -- run --preset quick`');
            const nproc = checkInteger('--nproc', args.nproc, 1, 1024);
            const port = args['master-port'] === undefined ? undefined : checkInteger('--master-port', args['master-port'], 1, 65535);
            exitCode = await launch(nproc, rest, { masterPort: port });
          } catch (err) {
            fail(err);
          }
        },
      )
      .command(
        'schema',
        'Print the JSON Schema of a study file (run --config)',
        (y) => y.example('$0 schema > study.schema.json', ''),
        () => {
          process.stdout.write(JSON.stringify(STUDY_CONFIG_SCHEMA, null, 2) + '\n');
        },
      )
      .strict()
      .demandCommand(0)
      .fail((msg, err) => {
        // A usage error (unknown flag, missing argument) stops here, before any command runs.
        throw err ?? new TransfusionError('ERR_INVALID_ARG', msg);
      })
      .help()
      .parseAsync();
  } catch (err) {
    fail(err);
  }
  return exitCode;
}
