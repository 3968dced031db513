// The run directory's lock (issue 28): a killed study always resumes, and a live one is never written twice. The lock
// goes stale without a heartbeat (any host), or on this host when its process is gone, a zombie, or an earlier life of
// this very pid (a container's PID 1).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { LOCK_STALE_MS, lockRunDir } from '../../src/experiments/rundir';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('lock');
let n = 0;
const fresh = () => {
  const d = path.join(dir, `d${n++}`);
  fs.mkdirSync(d);
  return d;
};
const plant = (d: string, holder: object, ageMs = 0) => {
  const lock = path.join(d, '.lock');
  fs.writeFileSync(lock, JSON.stringify(holder));
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(lock, t, t);
};
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('the run directory lock', () => {
  it('is held once: a second lock in this process is refused naming the holder, and release frees it', () => {
    const d = fresh();
    const release = lockRunDir(d);
    const e = refusal(() => lockRunDir(d));
    expect(e.code).toBe('ERR_LOCKED');
    expect(e.message).toMatch(new RegExp(`is being written by process ${process.pid} on ${os.hostname()} since \\d{4}-.*last heartbeat \\d+ s ago`));
    release();
    expect(fs.existsSync(path.join(d, '.lock'))).toBe(false);
    lockRunDir(d)();
  });

  it('takes over a lock naming this pid with a token it never issued (PID 1 killed and restarted in a container)', () => {
    const d = fresh();
    plant(d, { pid: process.pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', token: 'an earlier life' });
    lockRunDir(d)();
  });

  it('another host\'s lock is live while it beats, and stale after a minute without a heartbeat (a job requeued elsewhere)', () => {
    const d = fresh();
    plant(d, { pid: 4242, host: 'node-a', since: '2026-01-01T00:00:00.000Z', token: 't' }, 5_000);
    const e = refusal(() => lockRunDir(d));
    expect(e.code).toBe('ERR_LOCKED');
    expect(e.message).toContain('is being written by process 4242 on node-a since 2026-01-01T00:00:00.000Z');
    expect(e.message).toMatch(/a lock without a heartbeat for 60 s is taken over \(in 5\d s if that process is gone\)$/);
    plant(d, { pid: 4242, host: 'node-a', since: '2026-01-01T00:00:00.000Z', token: 't' }, LOCK_STALE_MS + 5_000);
    lockRunDir(d)();
  });

  it('takes over a lock whose process on this host is gone, or a zombie not yet reaped', async () => {
    const d = fresh();
    plant(d, { pid: 2 ** 22 + 12345, host: os.hostname(), token: 't' });
    lockRunDir(d)();
    // `sleep 0` exits at once, and its parent (exec'd into `sleep 5`) never reaps it: a zombie for five seconds.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b) => resolve(String(b)))));
    // Wait (up to 4 s on a loaded machine) until it has exited and sits unreaped.
    const isZombie = () => /\) Z /.test(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8'));
    for (let waited = 0; waited < 4000 && !isZombie(); waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(isZombie()).toBe(true);
    plant(d, { pid: zombie, host: os.hostname(), token: 't' });
    lockRunDir(d)();
    parent.kill();
  });

  it('beats while held: the lock file\'s time moves on', async () => {
    const d = fresh();
    const release = lockRunDir(d, { heartbeatMs: 50 });
    const lock = path.join(d, '.lock');
    const old = new Date(Date.now() - 30_000);
    fs.utimesSync(lock, old, old);
    await new Promise((r) => setTimeout(r, 300));
    expect(Date.now() - fs.statSync(lock).mtimeMs).toBeLessThan(5_000);
    release();
  });
});
