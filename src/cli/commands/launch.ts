// `launch --nproc N -- run ...`: N local ranks of a data-parallel command.
import { TransfusionError, checkInteger } from '../../errors';
import { launch } from '../launch';
import { defineCommand, type CliContext } from '../command';

export const launchCommand = (ctx: CliContext) =>
  defineCommand(
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
        ctx.setExitCode(await launch(nproc, rest, { masterPort: port }));
      } catch (err) {
        ctx.fail(err);
      }
    },
  );
