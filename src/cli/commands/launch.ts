// `launch --nproc N -- run ...`: N local ranks of a data-parallel command; with --nnodes, this machine's share of a
// group over several (torchrun's flags).
import { TransfusionError, checkInteger, invalidArg } from '../../errors';
import { launch } from '../launch';
import { defineCommand, type CliContext } from '../command';

export const launchCommand = (ctx: CliContext) =>
  defineCommand(
    'launch',
    'Start N local ranks of a data-parallel job (as torchrun does: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) running the command after --',
    (y) =>
      y
        .option('nproc-per-node', { alias: 'nproc', type: 'number', demandOption: true, describe: 'Ranks to start on this machine' })
        .option('nnodes', { type: 'number', default: 1, describe: 'Machines taking part (run launch on each, with its --node-rank)' })
        .option('node-rank', { type: 'number', default: 0, describe: "This machine's index, 0 .. nnodes - 1 (node 0 holds rank 0)" })
        .option('master-addr', { type: 'string', describe: "Address of node 0, where rank 0's rendezvous store listens (default 127.0.0.1; required with --nnodes > 1)" })
        .option('master-port', { type: 'number', describe: 'Rendezvous port (default: a free one; required with --nnodes > 1)' })
        .example('$0 launch --nproc 2 -- run --preset quick --sync-bn', 'Table 1 with each batch split over 2 processes')
        .example('$0 launch --nnodes 2 --node-rank 0 --nproc-per-node 1 --master-addr 10.0.0.1 --master-port 29500 -- run --preset quick', 'On the first of two machines (the second: --node-rank 1)')
        .example('$0 launch --nproc 4 -- bench --models resnet50', ''),
    async (args) => {
      try {
        const rest = ((args as { '--'?: (string | number)[] })['--'] ?? []).map(String);
        if (!rest.length) throw new TransfusionError('ERR_INVALID_ARG', 'Expected the command to launch after --, e.g. `launch --nproc 2 -- run --preset quick`');
        const nproc = checkInteger('--nproc-per-node', args['nproc-per-node'], 1, 1024);
        const nnodes = checkInteger('--nnodes', args.nnodes, 1, 4096);
        const nodeRank = checkInteger('--node-rank', args['node-rank'], 0, nnodes - 1);
        const port = args['master-port'] === undefined ? undefined : checkInteger('--master-port', args['master-port'], 1, 65535);
        const addr = args['master-addr'] === undefined ? undefined : String(args['master-addr']).trim();
        if (addr === '') throw invalidArg('--master-addr', 'a host name or address', args['master-addr']);
        if (nnodes > 1 && (addr === undefined || port === undefined))
          throw new TransfusionError('ERR_INVALID_ARG', `--nnodes ${nnodes} needs --master-addr and --master-port: every machine must name the same rendezvous (node 0's address)`);
        ctx.setExitCode(await launch(nproc, rest, { masterPort: port, masterAddr: addr, nnodes, nodeRank }));
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
