// The command line: a thin layer over the library (runStudy, listModels); each command is a module of its own in
// src/cli/commands/, in the order `--help` lists them.
import yargs, { type CommandModule } from 'yargs';

import { TransfusionError } from '../errors';
import { closestName } from '../options';
import type { CliContext } from './command';
import { benchCommand } from './commands/bench';
import { ccaCommand } from './commands/cca';
import { compareCommand } from './commands/compare';
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
    const commands = [runCommand, reproduceCommand, reportCommand, listCommand, ccaCommand, compareCommand, modelsCommand, benchCommand, launchCommand, schemaCommand].map((c) => c(ctx) as unknown as CommandModule);
    checkNumberTexts(argv, commands);
    const cli = commands
      .reduce((y, c) => y.command(c), yargs(argv)
        .scriptName('transfusion-native')
        .parserConfiguration({ 'populate--': true })
        .usage('$0 <command> [options]\n\nThe main job: `$0 run` (Table 1 at the quick preset on the embedded RETINA-like task).'))
      .strict()
      .recommendCommands()
      .demandCommand(1)
      .fail((msg, err) => {
        // A usage error (unknown flag or command, missing argument) stops here, before any command runs.
        throw err ?? new TransfusionError('ERR_INVALID_ARG', suggestFlags(msg, argv, commands));
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

/** The flags a command given on the command line takes, read from its builder (yargs keeps them where its typings do not show them). */
function flagsOf(argv: string[], commands: CommandModule[]): { command?: CommandModule; numbers: string[]; strings: string[]; arrays: string[]; keys: string[] } {
  const name = argv.find((a) => !a.startsWith('-'));
  const command = commands.find((c) => String(c.command).split(' ')[0] === name);
  if (!command || typeof command.builder !== 'function') return { numbers: [], strings: [], arrays: [], keys: [] };
  const o = (command.builder(yargs([])) as unknown as { getOptions(): { number: string[]; string: string[]; array: string[]; key: Record<string, unknown> } }).getOptions();
  return { command, numbers: o.number, strings: o.string, arrays: o.array, keys: Object.keys(o.key) };
}

/** yargs' "Unknown argument: preest" with the flag meant: "; did you mean --preset?" (as a mistyped command gets). */
function suggestFlags(message: string, argv: string[], commands: CommandModule[]): string {
  const m = /^Unknown arguments?: (.+)$/.exec(message);
  if (!m) return message;
  const { keys } = flagsOf(argv, commands);
  const meant = m[1].split(', ').map((n) => closestName(n, keys.filter((k) => k.length > 1))).filter((k): k is string => k !== undefined);
  return meant.length ? `${message}; did you mean ${meant.map((k) => `--${k}`).join(', ')}?` : message;
}

/** A number as a flag takes it: decimal digits, an optional fraction and exponent (no hex, octal, binary or empty text). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Refuses a number-typed flag of the command given whose text is not a decimal number: yargs would read `--steps 0x10`
 * as 16 and `--steps ''` as 0, silently. A text-typed flag given no text (`--resume --cache-dir c`, `--out=`) is refused
 * too: yargs would read it as "", which `--resume` and `--out` take for the current directory. The command's flags are
 * read from its own builder.
 */
function checkNumberTexts(argv: string[], commands: CommandModule[]): void {
  const { command, numbers: numberList, strings: stringList, arrays, keys } = flagsOf(argv, commands);
  if (!command) return;
  const numbers = new Set<string>(numberList);
  const strings = new Set<string>(stringList);
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);  // what follows -- is another command's (launch)
  const seen = new Set<string>();
  args.forEach((arg, i) => {
    const m = /^--([^=]+)(=(.*))?$/.exec(arg);
    if (!m) return;
    // A flag given twice: yargs makes an array of it (`--seeds 1 --seeds 1` ran 2 seeds), or keeps one silently.
    if (keys.includes(m[1]) && !arrays.includes(m[1])) {
      if (seen.has(m[1])) throw new TransfusionError('ERR_INVALID_ARG', `\`--${m[1]}\` is given more than once: give it once`);
      seen.add(m[1]);
    }
    const text = m[2] !== undefined ? m[3] : args[i + 1];
    const missing = text === undefined || (m[2] === undefined && text.startsWith('--'));
    if (strings.has(m[1])) {
      if (missing || text.trim() === '')
        throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--${m[1]}\` to be given a value but received ${missing ? 'none' : JSON.stringify(text)}`);
      // "-1/2" after a flag reads as flags of its own to yargs ("Unknown argument: 1"): name the flag it was meant for.
      if (m[2] === undefined && /^-[\d.]/.test(text))
        throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--${m[1]}\` to be given a value but received ${JSON.stringify(text)}, which reads as a flag: write --${m[1]}=${text}`);
      // A control character in a path or a name would reach the terminal raw in every progress line.
      if (/[\u0000-\u001f\u007f-\u009f]/.test(text))
        throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--${m[1]}\` to hold no control character but received ${JSON.stringify(text)}`);
    }
    if (!numbers.has(m[1]) || missing) return;  // yargs names a missing number itself
    if (!DECIMAL.test(text.trim()))
      throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--${m[1]}\` to be a decimal number but received ${JSON.stringify(text)}`);
  });
}
