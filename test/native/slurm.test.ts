// The README's two Slurm job scripts, run as written on a real two-node Slurm cluster of this machine's own (issue 33):
// .ci/slurm-cluster starts munged, slurmctld and one slurmd per network namespace (two hosts joined by a veth pair)
// and stops them afterwards. The scripts are read from the README and changed only where this machine differs from
// a GPU cluster, each change listed in `adapt`. Needs root, slurm-wlm and munge: elsewhere the file is skipped and
// says why.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/transfusion-native.js');
const cluster = path.join(root, '.ci/slurm-cluster');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-slurm-'));
const state = path.join(dir, 'cluster');

const started = process.getuid?.() === 0 ? spawnSync(cluster, ['start', state], { encoding: 'utf8', timeout: 120_000 }) : undefined;
const unavailable = !started ? 'needs root' : started.status !== 0 ? started.stderr.trim() || `exit ${started.status}` : undefined;
// Straight to stderr: jest does not show a skipped file's console output.
if (unavailable) process.stderr.write(`test/native/slurm.test.ts skipped: cannot start a Slurm cluster here (${unavailable})\n`);
// The cluster stops before its folder goes: its daemons write there and are found by the pid files in it.
afterAll(() => {
  spawnSync(cluster, ['stop', state]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const env: Record<string, string> = {};
for (const [, k, v] of (started?.stdout ?? '').matchAll(/(\w+)=(\S+)/g)) env[k] = v;

/** A README code block: the one after the line containing `marker`. */
function readmeScript(marker: string): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  expect(at).toBeGreaterThan(-1);
  return /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1];
}

/** What differs here from a GPU cluster: no GPUs (no --gres, no --device), 2 CPUs per node, a small preset. */
function adapt(script: string): string {
  return script
    .replace(/ --gres=gpu:\d+/g, '')
    .replace(/--cpus-per-task=\d+/g, '--cpus-per-task=1')
    .replace(/--ntasks-per-node=\d+/g, '--ntasks-per-node=1')
    .replace(/--array=0-7/g, '--array=0-1')
    .replace(/\/8 /g, '/2 ')
    .replace(/ --device cuda(:\$SLURM_LOCALID)?/g, '')
    .replace(/--preset paper/g, '--preset tiny')
    .replace(/npx transfusion-native/g, `${process.execPath} ${bin}`);
}

/** Submits a batch script in the controller's namespace and waits for it; sbatch's status and the jobs' output. */
function sbatch(name: string, script: string): { status: number | null; output: string } {
  const file = path.join(dir, `${name}.sh`);
  fs.writeFileSync(file, script);
  const r = spawnSync('ip', ['netns', 'exec', env.TN_SLURM_NS0, 'sbatch', '--wait', `--chdir=${dir}`, `--output=${dir}/${name}-%A_%a.out`, file], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: env.SLURM_CONF }, timeout: 600_000 });
  const output = fs.readdirSync(dir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.out')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  return { status: r.status, output: r.stderr + output };
}

const results = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));

(unavailable ? describe.skip : describe)("the README's Slurm scripts on a two-node cluster", () => {
  it('runs the job array of shards, one per node, and merges them with report --out', () => {
    const script = adapt(readmeScript('On a Slurm cluster, a job array of independent shards'));
    expect(script).toContain('--shard ${SLURM_ARRAY_TASK_ID}/2');
    const job = sbatch('shards', script);
    expect(job).toMatchObject({ status: 0 });
    const shards = [0, 1].map((i) => path.join(dir, `runs/transfusion-shard-${i}`));
    shards.forEach((s, i) => expect(results(s).shard).toEqual({ index: i, count: 2 }));
    const merge = /# afterwards: (.*)/.exec(script)![1];
    const merged = spawnSync('bash', ['-c', merge], { cwd: dir, encoding: 'utf8' });
    expect(merged.status).toBe(0);
    expect(merged.stderr).toMatch(/^merged 2 shard\(s\), \d+ runs, into .*runs\/transfusion/);
    const whole = results(path.join(dir, 'runs/transfusion'));
    expect(whole.runs.length).toBe(results(shards[0]).runs.length + results(shards[1]).runs.length);
    expect(whole.shard).toBeUndefined();
  }, 600_000);

  it('runs the two-node data-parallel study with srun, one rank on each node, traffic between the hosts', () => {
    const script = adapt(readmeScript('or one data-parallel study over several nodes'));
    expect(script).toContain('#SBATCH --nodes=2 --ntasks-per-node=1');
    const received = () => Number(spawnSync('ip', ['netns', 'exec', env.TN_SLURM_NS1, 'cat', '/sys/class/net/eth1/statistics/rx_bytes'], { encoding: 'utf8' }).stdout);
    const before = received();
    const job = sbatch('ddp', script);
    expect(job).toMatchObject({ status: 0 });
    const bytes = received() - before;
    // eslint-disable-next-line no-console
    console.log(`slurm: the second node received ${bytes} bytes during the data-parallel job`);
    expect(bytes).toBeGreaterThan(10 * 2 ** 20);
    const runs = fs.readdirSync(path.join(dir, 'runs')).filter((d) => !d.startsWith('transfusion')).map((d) => path.join(dir, 'runs', d)).filter((d) => fs.existsSync(path.join(d, 'results.json')));
    expect(runs).toHaveLength(1);  // rank 0 alone writes
    const r = results(runs[0]);
    expect(r.distributed).toEqual({ worldSize: 2, backend: 'gloo', syncBatchNorm: true });
    expect(r.finishedAt).toBeTruthy();
    expect(r.runs.length).toBeGreaterThan(0);
  }, 600_000);
});
