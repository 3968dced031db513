// `transfusion-native launch --nproc N -- run ...`: N local ranks of one data-parallel job, as torchrun starts them
// (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK). Rank 0 speaks on this terminal; the others' stderr comes
// through prefixed with their rank. The first rank to fail stops the rest, and its exit code is the launch's. Each rank
// gets cores / N threads unless OMP_NUM_THREADS or TRANSFUSION_THREADS say otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../../bindings/native';
import { distributedFromEnv, initProcessGroup, type ProcessGroup } from '../distributed';
import { packageVersion } from '../provenance';
import { addon } from '../runtime';

/**
 * Joins the group torchrun's environment describes (undefined outside one). Each rank names what it runs (this
 * package's version, LibTorch's, and a fingerprint of `work`: the study spec or the reproduction's request), and a
 * rank that runs something else than rank 0 is refused at the rendezvous, naming both.
 */
export async function joinFromEnv(kind: string, work: unknown): Promise<ProcessGroup | undefined> {
  const dist = distributedFromEnv();
  if (!dist) return undefined;
  const fingerprint = createHash('sha256').update(JSON.stringify(work)).digest('hex').slice(0, 16);
  const identity = `transfusion-native ${packageVersion()} on LibTorch ${addon().version().torch}, ${kind} ${fingerprint}`;
  return initProcessGroup({ ...dist, identity });
}

/** A TCP port free on this machine now, for the rendezvous. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Where this machine's ranks sit in the group: `nnodes` machines of `nproc` ranks each, this one `nodeRank`. */
export interface LaunchOptions {
  masterPort?: number;
  masterAddr?: string;
  nnodes?: number;
  nodeRank?: number;
  env?: NodeJS.ProcessEnv;
}

export async function launch(nproc: number, args: string[], opts: LaunchOptions = {}): Promise<number> {
  const port = opts.masterPort ?? (await freePort());
  const nnodes = opts.nnodes ?? 1, nodeRank = opts.nodeRank ?? 0;
  const addr = opts.masterAddr ?? '127.0.0.1';
  // The cores shared out between the ranks (as torchrun sets OMP_NUM_THREADS): OpenMP teams that together ask for more
  // threads than there are cores spin against each other and run many times slower.
  const threads = String(Math.max(1, Math.floor(os.availableParallelism() / nproc)));
  const shared = { OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? threads, TRANSFUSION_THREADS: process.env.TRANSFUSION_THREADS ?? threads };
  const bin = path.join(packageRoot(), 'bin', 'transfusion-native.js');
  const children: ChildProcess[] = [];
  let failed: number | undefined;
  const results = Array.from({ length: nproc }, (_, local) =>
    new Promise<number>((resolve) => {
      const rank = nodeRank * nproc + local;  // ranks numbered node by node
      const child = spawn(process.execPath, [bin, ...args], {
        env: {
          ...process.env, ...shared, ...opts.env, MASTER_ADDR: addr, MASTER_PORT: String(port),
          RANK: String(rank), WORLD_SIZE: String(nnodes * nproc), LOCAL_RANK: String(local),
          GROUP_RANK: String(nodeRank), LOCAL_WORLD_SIZE: String(nproc),
        },
        // This machine's first rank speaks on its terminal (the group's rank 0 on node 0).
        stdio: local === 0 ? 'inherit' : ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let pending = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop()!;
        for (const line of lines) process.stderr.write(`[rank ${rank}] ${line}\n`);
      });
      child.on('exit', (code, signal) => {
        if (pending) process.stderr.write(`[rank ${rank}] ${pending}\n`);
        const status = code ?? (signal ? 128 + 9 : 1);
        if (status !== 0 && failed === undefined) {
          failed = status;
          for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
        }
        resolve(status);
      });
    }),
  );
  const forward = () => children.forEach((c) => c.kill('SIGINT'));
  process.on('SIGINT', forward);
  try {
    const codes = await Promise.all(results);
    return failed ?? codes.find((c) => c !== 0) ?? 0;
  } finally {
    process.removeListener('SIGINT', forward);
  }
}
