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

class SetupError extends Error {}

function hasConfig(dir) {
  return Boolean(dir) && (fs.existsSync(path.join(dir, 'TorchConfig.cmake')) || fs.existsSync(path.join(dir, 'torch-config.cmake')));
}

function fromEnvironment(env) {
  if (env.Torch_DIR) {
    if (!hasConfig(env.Torch_DIR)) throw new SetupError(`Torch_DIR=${env.Torch_DIR} holds no TorchConfig.cmake`);
    return { dir: env.Torch_DIR, source: 'Torch_DIR' };
  }
  if (env.LIBTORCH) {
    const dir = path.join(env.LIBTORCH, 'share', 'cmake', 'Torch');
    if (!hasConfig(dir)) throw new SetupError(`LIBTORCH=${env.LIBTORCH} holds no share/cmake/Torch/TorchConfig.cmake`);
    return { dir, source: 'LIBTORCH' };
  }
  return null;
}

function fromPython(pythons) {
  for (const python of pythons) {
    const r = spawnSync(python, ['-c', 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const dir = path.join(r.stdout.trim(), 'Torch');
    if (hasConfig(dir)) return { dir, source: `${python}'s torch` };
  }
  return null;
}

const SYSTEM_DIRS = ['/usr/lib/x86_64-linux-gnu/cmake/Torch', '/usr/lib/aarch64-linux-gnu/cmake/Torch', '/usr/lib/cmake/Torch', '/usr/local/share/cmake/Torch'];

function fromSystem(dirs) {
  const dir = dirs.find(hasConfig);
  return dir ? { dir, source: 'system libtorch-dev' } : null;
}

const FIX =
  'LibTorch was not found. Fix it with one of:\n' +
  '  sudo apt-get install -y libtorch-dev           # Debian 12+/Ubuntu 24.04+: CPU LibTorch 1.13\n' +
  '  export Torch_DIR=/path/to/libtorch/share/cmake/Torch   # an unpacked LibTorch (pytorch.org)\n' +
  '  pip install torch   # then python3 -c "import torch" must work: its bundled LibTorch is used\n' +
  'and run `npm install` (or `npm run build`) again.';

/**
 * Where LibTorch's CMake config lives, and which source gave it. `options` exist for tests: the environment, the
 * python interpreters to ask, the system directories to look in, and whether apt may be used.
 */
function findTorch({
  env = process.env,
  pythons = ['python3', '/usr/bin/python3'],
  systemDirs = SYSTEM_DIRS,
  mayInstall = fs.existsSync('/etc/debian_version') && typeof process.getuid === 'function' && process.getuid() === 0,
} = {}) {
  const found = fromEnvironment(env) || fromPython(pythons) || fromSystem(systemDirs);
  if (found) return found;
  if (mayInstall) {
    console.log('transfusion-native: LibTorch not found; installing Debian libtorch-dev with apt-get (running as root)');
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: aptEnv });
    execFileSync('apt-get', ['install', '-y', '-qq', 'libtorch-dev', 'cmake', 'g++'], { stdio: 'inherit', env: aptEnv });
    const after = fromSystem(systemDirs);
    if (after) return after;
  }
  throw new SetupError(FIX);
}

function build() {
  const torch = findTorch();
  console.log(`transfusion-native: building against LibTorch from ${torch.source} (${torch.dir})`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const jobs = String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--parallel', jobs, `--CDTorch_DIR=${torch.dir}`], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new SetupError(`the native build failed (exit ${r.status}); see the compiler output above`);
}

module.exports = { findTorch, SetupError };

if (require.main === module) {
  try {
    build();
  } catch (err) {
    console.error(`transfusion-native: ${err.message}`);
    process.exit(1);
  }
}
