// `bench study`: a whole study in PyTorch from Python against ours, on the same data, as JSON.
import { checkInteger } from '../../errors';
import { preset, type PresetName } from '../../experiments/presets';
import { checkThreads, setThreads } from '../../runtime';
import { runStudyBench } from '../bench-study';
import { findPython } from '../bench';
import { defineCommand, type CliContext } from '../command';

export const benchStudyCommand = (ctx: CliContext) =>
  defineCommand(
    'study',
    'A whole study (default: the quick preset) in PyTorch from Python (bench/study.py: same models, data, pretraining, optimizer, schedule, steps, ' +
      'batch and evaluation; sequential at all threads) and our `run`, on a fresh weight cache each; prints {"ratio": python/ours, ...} as JSON',
    (y) =>
      y
        .option('preset', { type: 'string', default: 'quick', describe: 'The study\'s preset' })
        .option('models', { type: 'string', describe: 'Comma-separated CBR models instead of the preset\'s' })
        .option('seeds', { type: 'number', describe: 'Seeds per arm (0, 1, ...) instead of the preset\'s' })
        .option('steps', { type: 'number', describe: 'Training steps per run instead of the preset\'s' })
        .option('pretrain-steps', { type: 'number', describe: 'Pretraining steps instead of the preset\'s' })
        .option('repeats', { type: 'number', default: 1, describe: 'Repeats of both sides (medians reported; 3 for the figures the README quotes)' })
        .option('concurrency', { type: 'number', describe: 'Our runs in flight at once (default: run\'s)' })
        .option('python', { type: 'string', describe: 'The peer\'s interpreter (default: python3 if it has torch, else /usr/bin/python3)' })
        .option('threads', { type: 'number', describe: 'LibTorch threads on both sides (default: available cores)' })
        .option('work-dir', { type: 'string', describe: 'Keep the data and run directories here (default: a temporary folder, removed)' })
        .example('$0 bench study --repeats 3', 'The quick study, median of 3 (about 10 minutes per repeat on 2 cores)')
        .example('$0 bench study --preset tiny --models cbr-tiny --seeds 1 --steps 4', 'A smoke test in seconds'),
    async (args) => {
      try {
        if (args.threads !== undefined) setThreads(checkThreads('--threads', args.threads));
        const spec = preset(args.preset as PresetName);  // checked by preset() at run time
        if (args.models !== undefined) spec.models = args.models.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
        if (args.seeds !== undefined) spec.seeds = Array.from({ length: checkInteger('--seeds', args.seeds, 1, 100) }, (_, k) => k);
        if (args.steps !== undefined) {
          spec.train.steps = checkInteger('--steps', args.steps, 1);
          spec.train.evalEvery = Math.min(spec.train.evalEvery, spec.train.steps);
          spec.train.schedule = { ...spec.train.schedule, warmupSteps: Math.max(1, Math.round(spec.train.steps / 20)) };
        }
        if (args['pretrain-steps'] !== undefined) {
          spec.pretrain.steps = checkInteger('--pretrain-steps', args['pretrain-steps'], 1);
          spec.pretrain.schedule = { ...spec.pretrain.schedule, warmupSteps: Math.max(1, Math.round(spec.pretrain.steps / 20)) };
        }
        const result = await runStudyBench(
          {
            spec,
            repeats: checkInteger('--repeats', args.repeats, 1, 100),
            python: findPython(args.python),
            ...(args.concurrency !== undefined ? { concurrency: checkInteger('--concurrency', args.concurrency, 1, 64) } : {}),
            ...(args['work-dir'] !== undefined ? { workDir: args['work-dir'] } : {}),
          },
          (line) => process.stderr.write(line + '\n'),
        );
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
