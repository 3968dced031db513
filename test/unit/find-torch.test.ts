import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from '../helpers/tmp';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const build = require('../../scripts/build-native.js') as {
  findTorch: (o: { env?: Record<string, string>; pythons?: string[]; systemDirs?: string[] }) => { dir: string; source: string };
  buildJobs: (env: Record<string, string>) => number;
  unityBuild: (env: Record<string, string>, checkout: boolean) => boolean;
  cxxStandard: (env: Record<string, string>) => string;
  configurationInputs: (torch: { dir: string }, glooHeaders: string[], unity?: boolean, standard?: string) => { torchDir: string; gloo: string[]; unity: boolean; standard: string };
  needsConfigure: (buildDir: string, inputs: unknown) => boolean;
};
const { findTorch } = build;

const dir = tempDir('torch');
const configDir = (name: string) => {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'TorchConfig.cmake'), '# fake');
  return d;
};

describe('finding LibTorch', () => {
  const system = configDir('system/Torch');
  const none = { pythons: [], systemDirs: [] };

  it('prefers Torch_DIR, then LIBTORCH, then python3, then the system', () => {
    const explicit = configDir('explicit');
    const libtorch = path.join(dir, 'libtorch');
    configDir('libtorch/share/cmake/Torch');
    expect(findTorch({ env: { Torch_DIR: explicit, LIBTORCH: libtorch }, systemDirs: [system], pythons: [] })).toEqual({ dir: explicit, source: 'Torch_DIR' });
    expect(findTorch({ env: { LIBTORCH: libtorch }, systemDirs: [system], pythons: [] })).toEqual({ dir: path.join(libtorch, 'share/cmake/Torch'), source: 'LIBTORCH' });
    expect(findTorch({ env: {}, systemDirs: [system], pythons: [] })).toEqual({ dir: system, source: 'system libtorch-dev' });
  });

  it("asks python3 for its torch's CMake prefix", () => {
    const prefix = path.join(dir, 'py');
    configDir('py/Torch');
    const fakePython = path.join(dir, 'fake-python3');
    fs.writeFileSync(fakePython, `#!/bin/sh\necho ${prefix}\n`, { mode: 0o755 });
    expect(findTorch({ env: {}, pythons: ['/nonexistent/python3', fakePython], systemDirs: [system] })).toEqual({ dir: path.join(prefix, 'Torch'), source: `${fakePython}'s torch` });
  });

  it('names the bad setting, or prints the commands that fix a missing LibTorch', () => {
    expect(() => findTorch({ ...none, env: { Torch_DIR: path.join(dir, 'empty') } })).toThrow(`Torch_DIR=${path.join(dir, 'empty')} holds no TorchConfig.cmake`);
    expect(() => findTorch({ ...none, env: {} })).toThrow(/LibTorch was not found[\s\S]*sudo apt-get install -y libtorch-dev[\s\S]*export Torch_DIR=/);
  });

  it('installs no system packages: with no LibTorch anywhere it prints the commands, whoever runs it', () => {
    const source = fs.readFileSync(path.join(__dirname, '../../scripts/build-native.js'), 'utf8');
    expect(source).not.toMatch(/execFileSync|spawnSync\(['"]apt/);
    expect(() => findTorch({ ...none, env: {} })).toThrow(/apt-get install -y libtorch-dev cmake g\+\+ libgloo-dev[\s\S]*npm rebuild transfusion-native/);
  });

  it('bounds the build by TRANSFUSION_BUILD_JOBS and names a bad value', () => {
    expect(build.buildJobs({ TRANSFUSION_BUILD_JOBS: '1' })).toBe(1);
    expect(build.buildJobs({})).toBeGreaterThanOrEqual(1);
    expect(() => build.buildJobs({ TRANSFUSION_BUILD_JOBS: 'all' })).toThrow('TRANSFUSION_BUILD_JOBS=all is not a positive integer');
  });

  it('builds an install as unity batches and a checkout per file, unless TRANSFUSION_BUILD_UNITY says otherwise', () => {
    expect(build.unityBuild({}, false)).toBe(true);
    expect(build.unityBuild({}, true)).toBe(false);
    expect(build.unityBuild({ TRANSFUSION_BUILD_UNITY: '1' }, true)).toBe(true);
    expect(build.unityBuild({ TRANSFUSION_BUILD_UNITY: '0' }, false)).toBe(false);
    expect(() => build.unityBuild({ TRANSFUSION_BUILD_UNITY: 'yes' }, true)).toThrow('TRANSFUSION_BUILD_UNITY=yes is not 0 or 1');
    // Switching the mode reconfigures.
    const buildDir = path.join(dir, 'build-unity');
    fs.mkdirSync(buildDir, { recursive: true });
    fs.writeFileSync(path.join(buildDir, 'CMakeCache.txt'), '');
    fs.writeFileSync(path.join(buildDir, 'transfusion-native-inputs.json'), JSON.stringify(build.configurationInputs({ dir: system }, [], false)));
    expect(build.needsConfigure(buildDir, build.configurationInputs({ dir: system }, [], true))).toBe(true);
  });

  it('passes TRANSFUSION_CXX_STANDARD on to CMake (TN_CXX_STANDARD), names a bad value, and reconfigures when it changes', () => {
    expect(build.cxxStandard({})).toBe('');
    expect(build.cxxStandard({ TRANSFUSION_CXX_STANDARD: '17' })).toBe('17');
    expect(build.cxxStandard({ TRANSFUSION_CXX_STANDARD: '23' })).toBe('23');
    expect(() => build.cxxStandard({ TRANSFUSION_CXX_STANDARD: 'c++20' })).toThrow('TRANSFUSION_CXX_STANDARD=c++20 is not 17, 20 or 23');
    const buildDir = path.join(dir, 'build-standard');
    fs.mkdirSync(buildDir, { recursive: true });
    fs.writeFileSync(path.join(buildDir, 'CMakeCache.txt'), '');
    fs.writeFileSync(path.join(buildDir, 'transfusion-native-inputs.json'), JSON.stringify(build.configurationInputs({ dir: system }, [], false, '')));
    expect(build.needsConfigure(buildDir, build.configurationInputs({ dir: system }, [], false, ''))).toBe(false);
    expect(build.needsConfigure(buildDir, build.configurationInputs({ dir: system }, [], false, '17'))).toBe(true);
  });

  it('reconfigures when Gloo\'s headers appear after a build that had none (or LibTorch changes)', () => {
    const buildDir = path.join(dir, 'build');
    fs.mkdirSync(buildDir, { recursive: true });
    const gloo = path.join(dir, 'include/gloo/config.h');
    const before = build.configurationInputs({ dir: system }, [gloo]);
    expect(before.gloo).toEqual([]);
    expect(build.needsConfigure(buildDir, before)).toBe(true);  // never configured
    fs.writeFileSync(path.join(buildDir, 'CMakeCache.txt'), '');
    fs.writeFileSync(path.join(buildDir, 'transfusion-native-inputs.json'), JSON.stringify(before));
    expect(build.needsConfigure(buildDir, before)).toBe(false);
    fs.mkdirSync(path.dirname(gloo), { recursive: true });
    fs.writeFileSync(gloo, '');
    const after = build.configurationInputs({ dir: system }, [gloo]);
    expect(after.gloo).toEqual([gloo]);
    expect(build.needsConfigure(buildDir, after)).toBe(true);
    expect(build.needsConfigure(buildDir, { ...before, torchDir: '/elsewhere' })).toBe(true);
  });
});
