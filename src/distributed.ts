// Joining a data-parallel group the way torchrun, Slurm and Kubernetes launchers expect: from MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK, or from explicit options. The group is then passed to train() (or a
// study), where c10d does the collectives.
import type { DistributedOptions, NativeProcessGroup } from '../bindings/native';
import { TransfusionError, checkInteger, checkNumber, checkOneOf, invalidArg } from './errors';
import { awaitJob } from './job';
import { checkNativeHandle, checkOptions, optionKeys } from './options';
import { addon } from './runtime';

export type { DistributedOptions };

/**
 * This process's membership of a data-parallel group (make one with {@link initProcessGroup}); pass it to
 * {@link train} or {@link runStudy} as `group`. Leave it with {@link ProcessGroup.dispose}.
 */
export class ProcessGroup {
  /** This process's rank, 0 .. size - 1; rank 0 alone writes results. */
  readonly rank: number;
  /** The number of processes in the group (WORLD_SIZE). */
  readonly size: number;
  /** The rank on this machine (LOCAL_RANK): which GPU a rank takes on a multi-GPU machine. */
  readonly localRank: number;

  /** @internal */
  constructor(
    /** @internal */ readonly native: NativeProcessGroup,
    localRank: number,
  ) {
    checkNativeHandle('ProcessGroup', 'initProcessGroup()', native);
    const info = native.info();
    this.rank = info.rank;
    this.size = info.size;
    this.localRank = localRank;
  }

  /** Leaves the group and frees its native state. Idempotent. */
  dispose(): void {
    this.native.dispose();
  }
}

// Symbol.dispose, for TypeScript's `using`: installed only where the runtime has the symbol (a computed class member
// would be named "undefined" where it has not, as in jest's sandbox or Node 18).
export interface ProcessGroup {
  /** The same as dispose(), for TypeScript's `using` (explicit resource management). */
  [Symbol.dispose](): void;
}
if (typeof Symbol.dispose === 'symbol')
  Object.defineProperty(ProcessGroup.prototype, Symbol.dispose, { value(this: ProcessGroup) { this.dispose(); }, writable: true, configurable: true });

/**
 * torchrun's variables, checked: each missing or malformed one is named. Undefined when RANK and WORLD_SIZE are unset.
 * @param env - Where to read MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK (default: rank), and
 *   TRANSFUSION_DIST_TIMEOUT (seconds) and TRANSFUSION_DIST_BACKEND when set (default `process.env`).
 * @returns The options {@link initProcessGroup} takes, or undefined.
 * @throws ERR_INVALID_ARG naming the variable that is missing or malformed.
 */
export function distributedFromEnv(env: NodeJS.ProcessEnv = process.env): (DistributedOptions & { localRank: number }) | undefined {
  if (!env.WORLD_SIZE && !env.RANK) return undefined;
  const int = (name: string, min: number, max?: number, fallback?: number) => {
    const text = env[name];
    if (text === undefined || text === '') {
      if (fallback !== undefined) return fallback;
      throw new TransfusionError('ERR_INVALID_ARG', `The environment sets ${env.RANK ? 'RANK' : 'WORLD_SIZE'} but not ${name}: a distributed launch needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE`);
    }
    if (!/^\d+$/.test(text.trim())) throw new TransfusionError('ERR_INVALID_ARG', `Expected the environment variable ${name} to be a non-negative integer but received "${text}"`);
    return checkInteger(`${name} (environment)`, Number(text), min, max);
  };
  const worldSize = int('WORLD_SIZE', 1);
  const rank = int('RANK', 0, worldSize - 1);
  const masterAddr = env.MASTER_ADDR?.trim();
  if (!masterAddr) throw new TransfusionError('ERR_INVALID_ARG', 'The environment sets RANK and WORLD_SIZE but not MASTER_ADDR: a distributed launch needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE');
  const masterPort = int('MASTER_PORT', 1, 65535);
  const localRank = int('LOCAL_RANK', 0, undefined, rank);
  const timeoutSeconds = env.TRANSFUSION_DIST_TIMEOUT ? checkNumber('TRANSFUSION_DIST_TIMEOUT (environment)', Number(env.TRANSFUSION_DIST_TIMEOUT), 0.001, 1e7) : undefined;
  const backend = env.TRANSFUSION_DIST_BACKEND ? checkOneOf('TRANSFUSION_DIST_BACKEND (environment)', env.TRANSFUSION_DIST_BACKEND, ['gloo', 'nccl'] as const) : undefined;
  return { masterAddr, masterPort, rank, worldSize, localRank, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(backend ? { backend } : {}) };
}

const GROUP_OPTION_KEYS = optionKeys<DistributedOptions>()(['backend', 'masterAddr', 'masterPort', 'rank', 'worldSize', 'localRank', 'timeoutSeconds', 'identity']);

/**
 * Joins the group: with no options, the one torchrun's environment describes. Resolves once every rank has joined;
 * rejects ERR_DISTRIBUTED, naming the address, when they have not within the timeout.
 * @param options - See {@link DistributedOptions}, plus `localRank` (default: `rank`); default: from the environment
 *   ({@link distributedFromEnv}).
 * @param opts - `signal` cancels the wait.
 * @returns This process's {@link ProcessGroup}.
 * @throws ERR_INVALID_ARG for no options and no torchrun environment, or a bad field; ERR_DISTRIBUTED when the ranks do
 *   not meet within `timeoutSeconds`, when a rank's `identity` differs from rank 0's (naming both), or when this build
 *   lacks the backend (Gloo, NCCL); ABORT_ERR when `signal` aborts.
 */
export async function initProcessGroup(options?: DistributedOptions & { localRank?: number }, opts: { signal?: AbortSignal } = {}): Promise<ProcessGroup> {
  checkOptions('initProcessGroup()', options, GROUP_OPTION_KEYS);
  checkOptions('initProcessGroup()', opts, ['signal'], 'opts');
  const o = options ?? distributedFromEnv();
  if (!o) throw new TransfusionError('ERR_INVALID_ARG', 'No process group to join: set MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (as torchrun does), or pass the options');
  if (o.backend !== undefined) checkOneOf('backend', o.backend, ['gloo', 'nccl'] as const);
  if (o.identity !== undefined && typeof o.identity !== 'string') throw invalidArg('identity', 'a string (what this rank runs)', o.identity);
  const localRank = o.localRank ?? o.rank;
  const group = await awaitJob(() => addon().joinProcessGroup({ ...o, localRank }), opts.signal);
  return new ProcessGroup(group, localRank);
}
