// Training runs of a study in flight at once. Small convolutions scale poorly over threads, so on the CPU several runs
// at one thread each finish a study sooner than one run at a time with every thread (README: "Runs at once").
// Each run's numbers depend only on its own seed and thread count, never on what runs beside it.

/**
 * Runs in flight at once when a study names none: one per thread of this process (`getThreads()`, which `--threads`
 * sets), up to 64, each run then at one thread. Measured on 2 idle cores (README: "Runs at once"), with the addon's
 * reusing CPU allocator: the default quick study from an empty cache took 164.6 s and 155.8 s two at once at one
 * thread each, against 167.8 s and 166.5 s one at a time at two threads (`bench/concurrency.js`: two at once 5-6%
 * ahead for every CBR model). Above 2 cores this rule is not measured yet.
 * @param cores - The process's intra-op threads.
 * @returns At least 1.
 */
export function defaultConcurrency(cores: number): number {
  return Math.min(64, Math.max(1, cores));
}

/**
 * Runs a CPU study keeps in flight: the number asked for, else {@link defaultConcurrency}, and never more than the runs
 * it has to do (at least 1). `bench study` gives its tuned peer as many worker processes.
 * @param requested - The study's `concurrency` option, if any.
 * @param runs - The runs left to do.
 * @param cores - The process's intra-op threads.
 * @returns At least 1.
 */
export function runsInFlight(requested: number | undefined, runs: number, cores: number): number {
  return Math.min(requested ?? defaultConcurrency(cores), Math.max(1, runs));
}

/**
 * Each run's intra-op threads with `inFlight` runs at once: an equal share of the process's `cores`, at least 1;
 * undefined alone (the run then uses the process's threads, as it always has).
 * @param inFlight - Runs at once ({@link runsInFlight}).
 * @param cores - The process's intra-op threads.
 */
export function threadsPerRun(inFlight: number, cores: number): number | undefined {
  return inFlight > 1 ? Math.max(1, Math.floor(cores / inFlight)) : undefined;
}

/**
 * Runs `tasks` with at most `concurrency` in flight, each worker taking the first task that is `ready` (one whose
 * inputs are not being made by another task now), else the first task left. After a failure no task is started; the
 * tasks in flight are awaited (an aborted signal stops them after their step), then the first error is thrown.
 */
export async function runConcurrently<T>(
  tasks: readonly T[],
  concurrency: number,
  run: (task: T) => Promise<void>,
  ready: (task: T) => boolean,
): Promise<void> {
  const pending = [...tasks];
  let failure: { err: unknown } | undefined;
  const take = (): T => {
    const k = pending.findIndex(ready);
    return pending.splice(k >= 0 ? k : 0, 1)[0];
  };
  const worker = async () => {
    while (!failure && pending.length > 0) {
      try {
        await run(take());
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker));
  if (failure) throw failure.err;
}
