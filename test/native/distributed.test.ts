import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { freePort } from '../../src/cli/launch';
import { distributedFromEnv } from '../../src/distributed';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('ddp');
const worker = path.resolve(__dirname, '../fixtures/ddp_worker.js');

interface Outcome { code: number | null; stderr: string }

/** Starts `ranks` workers (RANK 0..ranks-1 of WORLD_SIZE size) and waits for all of them. */
async function launch(name: string, size: number, ranks: number, args: string[], env: Record<string, string> = {}): Promise<Outcome[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: ranks }, (_, rank) =>
      new Promise<Outcome>((resolve) => {
        const child = spawn(process.execPath, [worker, path.join(dir, `${name}-${rank}`), ...args], {
          env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(size), LOCAL_RANK: String(rank), ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      }),
    ),
  );
}

const read = (name: string) => ({
  meta: JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as {
    losses: number[]; auc: number; rank: number; size: number; buckets?: { buckets: number; launchedDuringBackward: number };
  },
  params: new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, `${name}.bin`))).buffer),
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('data-parallel training on c10d (Gloo, loopback)', () => {
  it('trains 2 ranks on slices of the batch to the weights of one process on the whole batch (synchronised BatchNorm)', async () => {
    const outcomes = await launch('sync', 2, 2, ['16', '6', 'sync', '0.5']);
    expect(outcomes.map((o) => o.stderr)).toEqual(['', '']);
    expect(outcomes.map((o) => o.code)).toEqual([0, 0]);
    const single = spawnSync(process.execPath, [worker, path.join(dir, 'single'), '16', '6'], { encoding: 'utf8', env: { ...process.env, RANK: '', WORLD_SIZE: '' } });
    expect(single.stderr).toBe('');
    const [r0, r1, one] = [read('sync-0'), read('sync-1'), read('single')];
    expect([r0.meta.rank, r1.meta.rank, r0.meta.size]).toEqual([0, 1, 2]);
    expect(maxDiff(r0.params, r1.params)).toBe(0);  // every rank holds the same weights
    // Float rounding only, which depends on the system BLAS's summation order (Debian's LibTorch takes gemm from it):
    // measured 5e-8 (1.13, reference BLAS), 1.5e-5 (1.13 with OpenBLAS; 2.6 with the reference BLAS).
    expect(maxDiff(r0.params, one.params)).toBeLessThan(5e-5);
    r0.meta.losses.forEach((l, i) => expect(l).toBeCloseTo(one.meta.losses[i], 5));
    expect(r0.meta.losses).toEqual(r1.meta.losses);  // the loss over the whole batch, on every rank
    expect(r0.meta.auc).toBe(r1.meta.auc);  // evaluation gathered: the whole validation set, once
    expect(r0.meta.auc).toBeCloseTo(one.meta.auc, 6);
    // 0.5 MB buckets over CBR-Tiny's 4.3 MB of gradients (layer4's 3.3 MB conv alone in one): every bucket was reduced
    // while backward was still running.
    expect(r0.meta.buckets!.buckets).toBeGreaterThanOrEqual(4);
    expect(r0.meta.buckets!.launchedDuringBackward).toBe(r0.meta.buckets!.buckets);
  }, 120000);

  it('keeps the ranks\' weights identical with per-rank BatchNorm (the default)', async () => {
    const outcomes = await launch('local', 2, 2, ['16', '4', 'local']);
    expect(outcomes.map((o) => o.code)).toEqual([0, 0]);
    expect(maxDiff(read('local-0').params, read('local-1').params)).toBe(0);
    // batchSize is the whole batch, as without a group: one that the ranks cannot split evenly is refused by each.
    const odd = await launch('odd', 2, 2, ['15', '4', 'local']);
    expect(odd.map((o) => [o.code, o.stderr])).toEqual([0, 1].map(() => [1, 'ERR_INVALID_ARG: Expected `batchSize` (15, the whole batch) to be a multiple of the 2 ranks: each trains on an equal slice\n']));
  }, 120000);

  it('fails with a clear error, not a hang, when a rank dies or never comes', async () => {
    const died = await launch('died', 2, 2, ['16', '4', 'sync'], { DIE_AFTER_JOIN: '1', TRANSFUSION_DIST_TIMEOUT: '10' });
    expect(died[1].code).toBe(3);
    expect(died[0].code).toBe(1);
    expect(died[0].stderr).toMatch(/^ERR_DISTRIBUTED: Rank 0 of 2: the (broadcast|all-reduce) did not complete \(timeout 10 s\); another rank may have died or stalled \(rank 1 on [^)]+\)\): /);
    const alone = await launch('alone', 2, 1, ['16', '4'], { TRANSFUSION_DIST_TIMEOUT: '2' });
    expect(alone[0].code).toBe(1);
    expect(alone[0].stderr).toMatch(/^ERR_DISTRIBUTED: Rank 0 of 2 could not join the group at 127\.0\.0\.1:\d+ within 2 s: /);
  }, 120000);

  it('says why there is no NCCL on a CPU build of LibTorch', async () => {
    const { initProcessGroup } = await import('../../src/distributed');
    await expect(initProcessGroup({ backend: 'nccl', rank: 0, worldSize: 1, masterPort: await freePort() })).rejects.toMatchObject({
      code: 'ERR_DISTRIBUTED',
      message: 'The nccl backend needs a CUDA build of LibTorch with NCCL (this one has none): use gloo',
    });
  });

  it('reads torchrun\'s environment, naming what is missing or malformed', () => {
    expect(distributedFromEnv({})).toBeUndefined();
    expect(distributedFromEnv({ MASTER_ADDR: 'a', MASTER_PORT: '1', RANK: '0', WORLD_SIZE: '1', TRANSFUSION_DIST_BACKEND: 'nccl' })?.backend).toBe('nccl');
    expect(distributedFromEnv({ MASTER_ADDR: 'node1', MASTER_PORT: '29500', RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1' })).toEqual({ masterAddr: 'node1', masterPort: 29500, rank: 3, worldSize: 8, localRank: 1 });
    expect(() => distributedFromEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '29500' })).toThrow('The environment sets RANK and WORLD_SIZE but not MASTER_ADDR');
    expect(() => distributedFromEnv({ MASTER_ADDR: 'a', MASTER_PORT: 'x', RANK: '0', WORLD_SIZE: '2' })).toThrow('Expected the environment variable MASTER_PORT to be a non-negative integer but received "x"');
    expect(() => distributedFromEnv({ MASTER_ADDR: 'a', MASTER_PORT: '1', RANK: '2', WORLD_SIZE: '2' })).toThrow('Expected `RANK (environment)` to be an integer in [0, 1] but received 2');
  });
});

describe('launch: a study data-parallel over local ranks', () => {
  const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
  const cache = path.join(dir, 'cache');
  const study = (out: string) => ['run', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', out, '--cache-dir', cache, '--quiet'];

  it('splits each batch over 2 ranks, rank 0 alone writes, and with --sync-bn gives the single-process numbers', () => {
    const single = spawnSync(process.execPath, [bin, ...study(path.join(dir, 'study-1'))], { encoding: 'utf8' });
    expect(single.status).toBe(0);
    const out = path.join(dir, 'study-2');
    const r = spawnSync(process.execPath, [bin, 'launch', '--nproc', '2', '--', ...study(out), '--sync-bn'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [one, two] = ['study-1', 'study-2'].map((d) => JSON.parse(fs.readFileSync(path.join(dir, d, 'results.json'), 'utf8')));
    expect(two.distributed).toEqual({ worldSize: 2, backend: 'gloo', syncBatchNorm: true });
    expect(two.runs).toHaveLength(4);
    // Pretraining is shared out as the runs are (each rank half of every batch), cached apart from one process's.
    expect(one.pretraining[0].ranks).toBeUndefined();
    expect(two.pretraining[0]).toMatchObject({ model: 'cbr-tiny', ranks: 2, cached: false, steps: one.pretraining[0].steps });
    expect(two.pretraining[0].weights).not.toBe(one.pretraining[0].weights);
    expect(Math.abs(two.pretraining[0].top1 - one.pretraining[0].top1)).toBeLessThan(0.05);
    two.runs.forEach((x: { init: string; auc: number; finalLoss: number }, i: number) => {
      // The ranks sum each gradient in another order than one process does, and over a study's steps float32 drifts:
      // with LibTorch 2.6, up to 8.9e-4 on a loss of 0.636 and 2.9e-3 in AUC (under 5e-5 and 5e-4 with 1.13). The 6-step
      // test above holds the mechanism (weights within 5e-5 of one process); here the study as a whole is held to 1e-2
      // in AUC and 5e-3 of its loss. A transfer run drifts twice, its pretraining having run over the ranks too (with
      // 1.13: 6.9e-3 in AUC, 8.0e-3 of the loss; random runs under 3e-4 and 1e-5): held to 1e-2 and 2e-2.
      const lossTolerance = x.init === 'transfer' ? 2e-2 : 5e-3;
      expect(Math.abs(x.auc - one.runs[i].auc)).toBeLessThan(1e-2);
      expect(Math.abs(x.finalLoss - one.runs[i].finalLoss)).toBeLessThanOrEqual(lossTolerance * Math.abs(one.runs[i].finalLoss));
    });
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('- Data parallel over 2 ranks (gloo): each batch of 16 split 8 per rank, gradients averaged; BatchNorm statistics synchronised over the ranks.');
  }, 180000);

  it('resumes a data-parallel study killed mid-run from the checkpoint rank 0 wrote, with an uninterrupted run\'s numbers', async () => {
    const config = path.join(dir, 'long.json');
    fs.writeFileSync(config, JSON.stringify({ preset: 'tiny', models: ['cbr-tiny'], inits: ['random'], seeds: [0, 1], train: { steps: 40, evalEvery: 10 } }));
    const args = (extra: string[]) => ['launch', '--nproc', '2', '--', 'run', ...extra, '--cache-dir', cache, '--checkpoint-every', '5', '--json'];
    const events = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const whole = path.join(dir, 'ddp-whole');
    expect(spawnSync(process.execPath, [bin, ...args(['--config', config, '--out', whole, '--sync-bn'])], { encoding: 'utf8' }).status).toBe(0);
    const out = path.join(dir, 'ddp-killed');
    // The launcher and its ranks in a process group of their own, killed together.
    const child = spawn(process.execPath, [bin, ...args(['--config', config, '--out', out, '--sync-bn'])], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (events(seen).some((e) => e.kind === 'train' && e.index === 2 && e.event.kind === 'checkpoint' && e.event.step === 10)) process.kill(-child.pid!, 'SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 500));  // the ranks die with the group
    const killed = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(killed.runs).toHaveLength(1);
    const resumed = spawnSync(process.execPath, [bin, ...args(['--resume', out])], { encoding: 'utf8' });
    expect(resumed.status).toBe(0);
    const trained = events(resumed.stdout).filter((e) => e.kind === 'train' && e.phase === 'run');
    expect(trained.some((e) => e.index === 1)).toBe(false);
    expect(trained.find((e) => e.event.kind === 'resume').event.step).toBeGreaterThanOrEqual(10);
    const science = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'results.json'), 'utf8')).runs.map((x: { auc: number; finalLoss: number; curve: unknown }) => [x.auc, x.finalLoss, x.curve]);
    expect(science(out)).toEqual(science(whole));
    const alone = spawnSync(process.execPath, [bin, 'run', '--resume', out], { encoding: 'utf8' });
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain(`${out} was trained over 2 rank(s), not 1: resume it the same way (launch --nproc 2 -- run --resume ...)`);
  }, 240000);

  it('stops every rank when one fails, with the failing rank\'s error and exit code', () => {
    const r = spawnSync(process.execPath, [bin, 'launch', '--nproc', '2', '--', 'run', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '-1', '--quiet'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Expected `--seed` to be a non-negative integer but received -1');
    const odd = spawnSync(process.execPath, [bin, 'launch', '--nproc', '3', '--', ...study(path.join(dir, 'odd'))], { encoding: 'utf8' });
    expect(odd.status).toBe(2);
    expect(odd.stderr).toContain('Expected train.batchSize (16) to be a multiple of the number of ranks (3)');
    const none = spawnSync(process.execPath, [bin, 'launch', '--nproc', '2'], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Expected the command to launch after --');
    // Several machines: each must name the same rendezvous, and its own place.
    const alone = spawnSync(process.execPath, [bin, 'launch', '--nnodes', '2', '--nproc-per-node', '1', '--', 'list'], { encoding: 'utf8' });
    expect(alone.stderr).toContain('--nnodes 2 needs --master-addr and --master-port');
    const beyond = spawnSync(process.execPath, [bin, 'launch', '--nnodes', '2', '--node-rank', '2', '--nproc-per-node', '1', '--master-addr', '127.0.0.1', '--master-port', '29500', '--', 'list'], { encoding: 'utf8' });
    expect(beyond.stderr).toContain('Expected `--node-rank` to be an integer in [0, 1] but received 2');
  }, 120000);
});

describe('the rendezvous compares what each rank runs', () => {
  // Two processes of the library, joining with identities that differ as two package versions would.
  const join = (port: number, rank: number, identity: string) => spawn(process.execPath, ['-e', `
    const { initProcessGroup } = require(${JSON.stringify(path.resolve(__dirname, '../..'))});
    initProcessGroup({ masterPort: ${port}, rank: ${rank}, worldSize: 2, timeoutSeconds: 20, identity: ${JSON.stringify(identity)} })
      .then((g) => { console.log('joined'); g.dispose(); }, (e) => { console.log(e.code + ': ' + e.message); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const outputs = (children: ReturnType<typeof join>[]) => Promise.all(children.map((c) => new Promise<string>((resolve) => {
    let out = '';
    c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    c.on('exit', () => resolve(out.trim()));
  })));

  it('refuses a rank of another version on both sides, naming both; equal ones join', async () => {
    const port = await freePort();
    const refused = await outputs([join(port, 0, 'transfusion-native 0.2.0, study ab'), join(port, 1, 'transfusion-native 0.1.0, study ab')]);
    for (const [i, out] of refused.entries())
      expect(out).toBe(`ERR_DISTRIBUTED: Rank 1 of 2 runs "transfusion-native 0.1.0, study ab" but rank 0 runs "transfusion-native 0.2.0, study ab": every rank must run the same study with the same version (refused at the rendezvous by rank ${i})`);
    const again = await freePort();
    expect(await outputs([join(again, 0, 'same'), join(again, 1, 'same')])).toEqual(['joined', 'joined']);
  }, 60000);
});
