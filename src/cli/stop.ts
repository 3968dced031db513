// Ctrl-C or SIGTERM during a long command (`run`, `reproduce`): the run in progress stops after its current step (a
// checkpoint being written is finished: it is written atomically), the lock is released, and the exit code is the
// signal's (130, 143) with the command that resumes. A second signal of the same kind is not caught: it stops the
// process at once.
import type { ProcessGroup } from '../distributed';
import type { CliContext } from './command';
import { stopProgressBars } from './progress';

/**
 * Runs `body` with an AbortSignal the first SIGINT or SIGTERM aborts.
 * @returns true when the body finished, false when a signal stopped it (the exit code is then set).
 */
export async function untilStopped(ctx: CliContext, outDir: string, resume: string, group: ProcessGroup | undefined, body: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    stopProgressBars();  // the bars cleared first: the messages start on a clean line
    process.stderr.write(`\ntransfusion-native: ${signal}: stopping after the current step (again to stop at once)\n`);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await body(controller.signal);
    return true;
  } catch (err) {
    if (stoppedBy && (err as { code?: string })?.code === 'ABORT_ERR') {
      process.stderr.write(`transfusion-native: interrupted; finished runs are kept in ${outDir}. Resume with: ${resume}\n`);
      ctx.setExitCode(stoppedBy === 'SIGTERM' ? 143 : 130);
      return false;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    group?.dispose();
  }
}
