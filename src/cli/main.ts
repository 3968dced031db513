// The command line: a thin layer over the library (runStudy, listModels); each command is a module of its own in
// src/cli/commands/, in the order `--help` lists them.
import yargs from 'yargs';

import { TransfusionError } from '../errors';
import type { CliContext } from './command';
import { benchCommand } from './commands/bench';
import { ccaCommand } from './commands/cca';
import { launchCommand } from './commands/launch';
import { listCommand } from './commands/list';
import { modelsCommand } from './commands/models';
import { reportCommand } from './commands/report';
import { reproduceCommand } from './commands/reproduce';
import { runCommand } from './commands/run';
import { schemaCommand } from './commands/schema';

import { joinSignedValues } from './run-options';

export { parseAssignments, parseAugment, parseWeights } from './run-options';

export async function main(given: string[]): Promise<number> {
  const argv = joinSignedValues(given);
  let exitCode = 0;
  const fail = (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`transfusion-native: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`);
    exitCode = e?.code === 'ABORT_ERR' ? 130 : e?.code === 'ERR_INVALID_ARG' ? 2 : 1;
  };
  const ctx: CliContext = { argv, fail, setExitCode: (code) => (exitCode = code) };
  // A usage error is thrown by yargs synchronously from parseAsync (unknown flags), or rejects it: both land in fail.
  try {
    const cli = yargs(argv)
      .scriptName('transfusion-native')
      .parserConfiguration({ 'populate--': true })
      .usage('$0 <command> [options]\n\nThe main job: `$0 run` (Table 1 at the quick preset on the embedded RETINA-like task).')
      .command(runCommand(ctx))
      .command(reproduceCommand(ctx))
      .command(reportCommand(ctx))
      .command(listCommand(ctx))
      .command(ccaCommand(ctx))
      .command(modelsCommand(ctx))
      .command(benchCommand(ctx))
      .command(launchCommand(ctx))
      .command(schemaCommand(ctx))
      .strict()
      .recommendCommands()
      .demandCommand(1)
      .fail((msg, err) => {
        // A usage error (unknown flag or command, missing argument) stops here, before any command runs.
        throw err ?? new TransfusionError('ERR_INVALID_ARG', msg);
      })
      .help()
      .alias('h', 'help')
      .version()
      .alias('v', 'version');
    // Nothing asked: the help, not a 24-run study in ./runs/.
    if (argv.length === 0) {
      cli.showHelp((text) => process.stdout.write(text + '\n'));
      return 0;
    }
    await cli.parseAsync();
  } catch (err) {
    fail(err);
  }
  return exitCode;
}
