// What produced a results.json (issue 31): package version and commit, the command line, CPU and memory, LibTorch's
// version and build settings, and for the user's data a hash of the files read; printed in the report's settings.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';

import { loadDataset, versions } from '../../src';
import { buildSettings, gitCommit } from '../../src/provenance';
import { tempDir } from '../helpers/tmp';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/transfusion-native.js');
const dir = tempDir('provenance');

describe('provenance', () => {
  it('reads a commit from .git without git: detached, a loose ref, a packed ref; null elsewhere', () => {
    const repo = path.join(dir, 'repo'), git = path.join(repo, '.git');
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    fs.mkdirSync(path.join(git, 'refs', 'heads'), { recursive: true });
    fs.writeFileSync(path.join(git, 'HEAD'), `${a}\n`);
    expect(gitCommit(repo)).toBe(a);
    fs.writeFileSync(path.join(git, 'HEAD'), 'ref: refs/heads/main\n');
    fs.writeFileSync(path.join(git, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${b} refs/heads/main\n`);
    expect(gitCommit(repo)).toBe(b);
    fs.writeFileSync(path.join(git, 'refs', 'heads', 'main'), `${a}\n`);
    expect(gitCommit(repo)).toBe(a);
    expect(gitCommit(path.join(dir, 'nothing'))).toBeNull();
    // A linked worktree (git worktree add): .git is a file naming its folder, whose commondir holds the refs.
    const tree = path.join(dir, 'tree'), own = path.join(git, 'worktrees', 'tree');
    fs.mkdirSync(tree);
    fs.mkdirSync(own, { recursive: true });
    fs.writeFileSync(path.join(tree, '.git'), `gitdir: ${own}\n`);
    fs.writeFileSync(path.join(own, 'commondir'), '../..\n');
    fs.writeFileSync(path.join(own, 'HEAD'), 'ref: refs/heads/main\n');
    expect(gitCommit(tree)).toBe(a);
    fs.writeFileSync(path.join(own, 'HEAD'), `${b}\n`);
    expect(gitCommit(tree)).toBe(b);
  });

  it('parses LibTorch\'s build settings as at::show_config() prints them', () => {
    const config = '  - Build settings: BLAS_INFO=generic, BUILD_TYPE=RelWithDebInfo, CXX_FLAGS=-O2 -fPIC -DUSE_XNNPACK, TORCH_VERSION=1.13.0, USE_CUDA=OFF, USE_ROCM=OFF, \n';
    expect(buildSettings(config)).toEqual({ BLAS_INFO: 'generic', BUILD_TYPE: 'RelWithDebInfo', CXX_FLAGS: '-O2 -fPIC -DUSE_XNNPACK', TORCH_VERSION: '1.13.0', USE_CUDA: 'OFF', USE_ROCM: 'OFF' });
    expect(buildSettings('no settings here')).toEqual({});
  });

  it('records and reports what made a study, and a hash of the data files that moves with their content only', async () => {
    const data = path.join(dir, 'folder');
    for (const [c, label] of ['normal', 'lesion'].entries())
      for (let k = 0; k < 12; k++) {
        const file = path.join(data, label, `${k}.png`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        await sharp(Buffer.from(Array.from({ length: 16 * 16 }, (_, i) => (i * 11 + k * 37 + c * 90) % 256)), { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(file);
      }
    const out = path.join(dir, 'run');
    const args = ['run', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data, '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet'];
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    const p = results.provenance;
    expect(p.package).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
    if (head.status === 0) expect(p.commit).toBe(head.stdout.trim());
    expect(p.command).toEqual([path.basename(process.execPath), bin, ...args]);
    expect(p.cpu).toEqual({ model: os.cpus()[0].model.trim(), cores: os.cpus().length, memoryBytes: os.totalmem() });
    expect(p.gpu).toBeNull();
    expect(p.torch.version).toBe(versions().torch);
    expect(p.torch.build.USE_CUDA).toMatch(/^(ON|OFF|1|0)$/);
    expect(Object.keys(p.torch.build).length).toBeGreaterThan(5);
    expect(results.data.filesHash).toMatch(/^[0-9a-f]{64}$/);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain(`Made by transfusion-native ${p.package}`);
    expect(report).toContain(`LibTorch ${p.torch.version} (BLAS_INFO=`);
    expect(report).toContain(`list SHA-256 ${results.data.filesHash.slice(0, 16)}`);

    // The hash names the files, not where they sit: a copy elsewhere hashes the same; a changed file does not.
    const hashOf = async (folder: string) => {
      const d = await loadDataset({ path: folder }, { size: 16, seed: 0, cacheDir: path.join(dir, 'cache') });
      [d.train, d.val].forEach((x) => x.dispose());
      return d.filesHash;
    };
    const copy = path.join(dir, 'elsewhere', 'folder');
    fs.cpSync(data, copy, { recursive: true });
    expect(await hashOf(copy)).toBe(await hashOf(data));
    fs.appendFileSync(path.join(copy, 'lesion', '3.png'), Buffer.alloc(10));
    expect(await hashOf(copy)).not.toBe(await hashOf(data));
  }, 300_000);
});
