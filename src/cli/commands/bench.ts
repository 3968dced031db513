// `bench`: training and similarity throughput, against PyTorch from Python.
import { TransfusionError, checkInteger, checkOneOf } from '../../errors';
import { LIMITS } from '../../limits';
import { checkThreads, setThreads } from '../../runtime';
import { findPython, runBench } from '../bench';
import { defineCommand, type CliContext } from '../command';
import { benchStudyCommand } from './bench-study';

export const benchCommand = (ctx: CliContext) =>
  defineCommand(
    'bench',
    'Training throughput per model (images/s, TFLOP/s) and similarity throughput (pairs/s); with --vs-python, the same step in PyTorch from Python and the ratio',
    (y) =>
      y
        // `bench study` has flags of its own, some of the same names with other meanings: these are bench's alone.
        .command(benchStudyCommand(ctx))
        .option('device', { global: false, type: 'string', default: 'cpu', describe: 'cpu or cuda' })
        .option('models', { global: false, type: 'string', default: 'cbr-tiny,cbr-small,cbr-largew,cbr-larget,resnet50', describe: 'Comma-separated models ("none": similarity alone)' })
        .option('batch', { global: false, type: 'number', default: 32, describe: 'Images per step' })
        .option('size', { global: false, type: 'number', default: 64, describe: 'Image side (px; raised to a model\'s minimum)' })
        .option('precision', { global: false, type: 'string', default: 'fp32', describe: 'fp32, tf32 (CUDA) or bf16 (autocast)' })
        .option('channels-last', { global: false, type: 'boolean', default: false, describe: 'NHWC weights and inputs' })
        .option('cuda-graph', { global: false, type: 'boolean', default: false, describe: 'CUDA: replay the training step as a CUDA graph (both sides)' })
        .option('steps', { global: false, type: 'number', default: 10, describe: 'Timed steps per round' })
        .option('warmup', { global: false, type: 'number', default: 3, describe: 'Untimed steps first' })
        .option('rounds', { global: false, type: 'number', default: 2, describe: 'Rounds (alternating addon and python); the best of each counts' })
        .option('vs-python', { global: false, type: 'boolean', default: false, describe: 'Also run bench/train_step.py in PyTorch from Python and print addon/python' })
        .option('python', { global: false, type: 'string', describe: 'Interpreter for --vs-python (default: python3 if it has torch, else /usr/bin/python3)' })
        .option('cca', { global: false, type: 'string', default: '8x20000x512', describe: 'Similarity: PAIRSxDATAPOINTSxNEURONS ("0" skips it)' })
        .option('threads', { global: false, type: 'number', describe: 'LibTorch threads (default: available cores)' })
        .option('json', { global: false, type: 'boolean', default: false, describe: 'Print the results as JSON' })
        .example('$0 bench --vs-python', 'CPU: the addon against PyTorch from Python, same threads')
        .example('$0 bench --models none --cca 4x10000x256', 'Similarity throughput alone')
        .example('$0 bench study --repeats 3', 'A whole study against the same study in PyTorch from Python')
        .example('$0 bench --device cuda --models resnet50 --size 224 --batch 256 --precision bf16 --channels-last --vs-python', 'The H100 goal'),
    async (args) => {
      try {
        if (args.threads !== undefined) setThreads(checkThreads('--threads', args.threads));
        const cca = args.cca === '0' ? [0, 0, 0] : args.cca.split('x').map(Number);
        if (cca.length !== 3 || cca.some((v) => !Number.isInteger(v) || v < 0))
          throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--cca\` as PAIRSxDATAPOINTSxNEURONS (e.g. 8x20000x512) or 0 but received "${args.cca}"`);
        const options = {
          device: checkOneOf('--device', args.device.replace(/:\d+$/, ''), ['cpu', 'cuda'] as const) && args.device,
          models: args.models.trim().toLowerCase() === 'none' ? [] : args.models.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean),
          batch: checkInteger('--batch', args.batch, 1),
          size: checkInteger('--size', args.size, LIMITS.imageSize.min, LIMITS.imageSize.max),
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
        ctx.fail(err);
      }
    },
  );
