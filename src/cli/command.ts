// What every command module of the CLI (src/cli/commands/) shares: the context main() gives it, and defineCommand,
// which types a command's handler from its builder as yargs' inline form does.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

export interface CliContext {
  /** The command line as given (for flags that must not be combined). */
  argv: string[];
  /** Prints the error as the CLI does and sets the exit code from its code (2: a usage error, 130: aborted, 1: else). */
  fail(err: unknown): void;
  setExitCode(code: number): void;
}

export function defineCommand<U>(
  command: string | readonly string[],
  describe: string,
  builder: (y: Argv) => Argv<U>,
  handler: (args: ArgumentsCamelCase<U>) => void | Promise<void>,
): CommandModule<object, U> {
  return { command: command as string | string[], describe, builder, handler };
}
