import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { HANDLE_MEMBERS, loadAddon, NATIVE_EXPORTS } from '../../bindings/native';
import { freePort } from '../../src/cli/launch';
import { getThreads } from '../../src';
import { hasCxx20 } from '../helpers/compiler';
import { tempDir } from '../helpers/tmp';

describe('the typed bindings', () => {
  const dir = tempDir('cpu-caches');

  it('list exactly the functions the addon exports', () => {
    expect(Object.keys(loadAddon()).sort()).toEqual([...NATIVE_EXPORTS].sort());
  });

  it('declare exactly the members of each handle class (model, dataset, process group)', async () => {
    const addon = loadAddon();
    const members = (handle: object) => Object.getOwnPropertyNames(Object.getPrototypeOf(handle)).filter((n) => n !== 'constructor').sort();
    const model = addon.createModel('cbr-tiny', {});
    const data = await addon.generateRetina({ count: 4, size: 16, seed: 0 }).promise;
    const group = await addon.joinProcessGroup({ backend: 'gloo', masterAddr: '127.0.0.1', masterPort: await freePort(), rank: 0, worldSize: 1 }).promise;
    try {
      expect(members(model)).toEqual([...HANDLE_MEMBERS.model].sort());
      expect(members(data)).toEqual([...HANDLE_MEMBERS.dataset].sort());
      expect(members(group)).toEqual([...HANDLE_MEMBERS.group].sort());
    } finally {
      [model, data, group].forEach((h) => h.dispose());
    }
  });

  it('report the LibTorch version the addon was built against', () => {
    expect(loadAddon().version().torch).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('report the C++ standard the addon was compiled as: C++20 wherever its compiler has it, and always with LibTorch 2.14+', () => {
    const { torch, cxxStandard } = loadAddon().version();
    const [major, minor] = torch.split('.').map(Number);
    expect([17, 20, 23]).toContain(cxxStandard);
    if (major > 2 || (major === 2 && minor >= 14)) expect(cxxStandard).toBeGreaterThanOrEqual(20);
    // The build this addon came from: its compiler, and the standard asked for (TN_CXX_STANDARD), if any. A build as
    // an install does (no .git) keeps the addon alone: then it was the default compiler, asked for through
    // TRANSFUSION_CXX_STANDARD if at all.
    const cacheFile = path.join(__dirname, '..', '..', 'build', 'CMakeCache.txt');
    const cache = fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile, 'utf8') : '';
    const asked = cache ? /^TN_CXX_STANDARD:STRING=(.*)$/m.exec(cache)?.[1] : process.env.TRANSFUSION_CXX_STANDARD;
    if (asked) return expect(cxxStandard).toBe(Number(asked));
    const compiler = /^CMAKE_CXX_COMPILER:[A-Z]+=(.*)$/m.exec(cache)?.[1] ?? process.env.CXX ?? 'c++';
    expect(cxxStandard).toBe(hasCxx20(compiler) ? 20 : 17);
  });

  it("leave oneDNN's kernels uncapped, except with LibTorch 2.x on a CPU whose CPUID describes no caches (oneDNN 3.x divides by zero there)", () => {
    const { torch, oneDnnMaxIsa } = loadAddon().version();
    if (process.arch !== 'x64') return expect(oneDnnMaxIsa).toBeNull();
    const probe = path.join(dir, 'cpu_caches');
    execFileSync('cc', ['-O1', '-o', probe, path.join(__dirname, '..', 'fixtures', 'cpu_caches.c')]);
    const described = execFileSync(probe, { encoding: 'utf8' }).trim() === '1';
    expect(oneDnnMaxIsa).toBe(Number(torch.split('.')[0]) < 2 || described ? null : 'SSE41');
    expect(process.env.ONEDNN_MAX_CPU_ISA).toBe(oneDnnMaxIsa ?? undefined);  // what child processes inherit
  });

  it("set LibTorch's thread count to the available cores by default (Debian's LibTorch would use 1)", () => {
    delete process.env.TRANSFUSION_THREADS;
    expect(getThreads()).toBe(os.availableParallelism());
  });
});
