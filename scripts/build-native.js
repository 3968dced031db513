#!/usr/bin/env node
// Builds the native addon (build/Release/transfusion_native.node) with cmake-js, after finding LibTorch in this
// order: $Torch_DIR or $LIBTORCH; python3's torch (torch.utils.cmake_prefix_path, how a CUDA machine gets CUDA
// LibTorch); the system's (Debian/Ubuntu libtorch-dev). On a Debian-family machine, as root, with none found, it
// installs libtorch-dev with apt; otherwise it stops and prints the commands that fix it.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function hasConfig(dir) {
  return Boolean(dir) && (fs.existsSync(path.join(dir, 'TorchConfig.cmake')) || fs.existsSync(path.join(dir, 'torch-config.cmake')));
}

function fromEnvironment() {
  if (process.env.Torch_DIR) {
    if (!hasConfig(process.env.Torch_DIR)) fail(`Torch_DIR=${process.env.Torch_DIR} holds no TorchConfig.cmake`);
    return { dir: process.env.Torch_DIR, source: 'Torch_DIR' };
  }
  if (process.env.LIBTORCH) {
    const dir = path.join(process.env.LIBTORCH, 'share', 'cmake', 'Torch');
    if (!hasConfig(dir)) fail(`LIBTORCH=${process.env.LIBTORCH} holds no share/cmake/Torch/TorchConfig.cmake`);
    return { dir, source: 'LIBTORCH' };
  }
  return null;
}

function fromPython() {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const dir = path.join(r.stdout.trim(), 'Torch');
    if (hasConfig(dir)) return { dir, source: `${python}'s torch` };
  }
  return null;
}

const systemDirs = ['/usr/lib/x86_64-linux-gnu/cmake/Torch', '/usr/lib/aarch64-linux-gnu/cmake/Torch', '/usr/lib/cmake/Torch', '/usr/local/share/cmake/Torch'];
function fromSystem() {
  const dir = systemDirs.find(hasConfig);
  return dir ? { dir, source: 'system libtorch-dev' } : null;
}

const isDebian = () => fs.existsSync('/etc/debian_version');
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function installWithApt() {
  console.log('transfusion-native: LibTorch not found; installing Debian libtorch-dev with apt-get (running as root)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'libtorch-dev', 'cmake', 'g++'], { stdio: 'inherit', env });
}

function fail(message) {
  console.error(`transfusion-native: ${message}`);
  process.exit(1);
}

function findTorch() {
  const found = fromEnvironment() || fromPython() || fromSystem();
  if (found) return found;
  if (isDebian() && isRoot()) {
    installWithApt();
    const after = fromSystem();
    if (after) return after;
  }
  fail(
    'LibTorch was not found. Fix it with one of:\n' +
      '  sudo apt-get install -y libtorch-dev           # Debian 12+/Ubuntu 24.04+: CPU LibTorch 1.13\n' +
      '  export Torch_DIR=/path/to/libtorch/share/cmake/Torch   # an unpacked LibTorch (pytorch.org)\n' +
      '  pip install torch   # then python3 -c "import torch" must work: its bundled LibTorch is used\n' +
      'and run `npm install` (or `npm run build`) again.',
  );
}

function main() {
  if (process.env.TRANSFUSION_NATIVE_SKIP_BUILD) return;
  const torch = findTorch();
  console.log(`transfusion-native: building against LibTorch from ${torch.source} (${torch.dir})`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const jobs = String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--parallel', jobs, `--CDTorch_DIR=${torch.dir}`], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail(`the native build failed (exit ${r.status}); see the compiler output above`);
}

main();
