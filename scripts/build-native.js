#!/usr/bin/env node
// Builds the native addon (build/Release/transfusion_native.node) with cmake-js, after finding LibTorch in this
// order: $Torch_DIR or $LIBTORCH; python3's torch (torch.utils.cmake_prefix_path, how a CUDA machine gets CUDA
// LibTorch); the system's (Debian/Ubuntu libtorch-dev). With none found it stops and prints the commands that fix it:
// a library does not install system packages (the README's set-up command does, explicitly).
// The build reconfigures when what the configuration found has changed (another LibTorch, Gloo's headers installed
// since), so `npm rebuild transfusion-native` after `apt-get install libgloo-dev` builds distributed training in.
// TRANSFUSION_BUILD_JOBS bounds the compiler's parallelism (default: every core); an install builds the core as unity
// batches (TRANSFUSION_BUILD_UNITY, see unityBuild); TRANSFUSION_CXX_STANDARD overrides the C++ standard CMakeLists.txt
// chooses from the LibTorch found (see cxxStandard). An install from the registry keeps
// only the addon: the build folder's objects and precompiled header (~550 MB) are removed once it is linked.
// An installed package first looks for a prebuilt addon made for the LibTorch found (scripts/prebuilt.js), and uses
// it, with no compiler, where it fits and loads; TRANSFUSION_BUILD_FROM_SOURCE=1 always builds.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { installPrebuilt, savePrebuilt } = require('./prebuilt');

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
  '  sudo apt-get install -y libtorch-dev cmake g++ libgloo-dev   # Debian 12+/Ubuntu 24.04+: CPU LibTorch (1.13 or 2.6)\n' +
  '  export Torch_DIR=/path/to/libtorch/share/cmake/Torch   # an unpacked LibTorch (pytorch.org)\n' +
  '  pip install torch   # then python3 -c "import torch" must work: its bundled LibTorch is used\n' +
  'and run `npm rebuild transfusion-native` (in a checkout of the repository: `npm run build`) again.';

/**
 * Where LibTorch's CMake config lives, and which source gave it. `options` exist for tests: the environment, the
 * python interpreters to ask and the system directories to look in.
 */
function findTorch({ env = process.env, pythons = ['python3', '/usr/bin/python3'], systemDirs = SYSTEM_DIRS } = {}) {
  const found = fromEnvironment(env) || fromPython(pythons) || fromSystem(systemDirs);
  if (found) return found;
  throw new SetupError(FIX);
}

/** A checkout of the repository (development), as against a package installed from the registry. */
const isCheckout = () => fs.existsSync(path.join(root, '.git'));

/**
 * Whether the core is built as unity batches (a few translation units parsing LibTorch's headers, no precompiled
 * header: 89 s and 8 MB here) or one object per file sharing a precompiled header (375 s and 555 MB from scratch, but an
 * edit recompiles one file). TRANSFUSION_BUILD_UNITY=1 or 0 chooses; by default a checkout of the repository (.git)
 * builds per file, an install builds unity.
 */
function unityBuild(env = process.env, checkout = isCheckout()) {
  const asked = env.TRANSFUSION_BUILD_UNITY;
  if (asked === undefined || asked === '') return !checkout;
  if (asked !== '0' && asked !== '1') throw new SetupError(`TRANSFUSION_BUILD_UNITY=${asked} is not 0 or 1`);
  return asked === '1';
}

/** The compiler's parallelism: TRANSFUSION_BUILD_JOBS (a positive integer) or every core. */
function buildJobs(env = process.env) {
  const cores = Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  const asked = env.TRANSFUSION_BUILD_JOBS;
  if (asked === undefined || asked === '') return cores;
  if (!/^[1-9][0-9]{0,3}$/.test(asked)) throw new SetupError(`TRANSFUSION_BUILD_JOBS=${asked} is not a positive integer`);
  return Number(asked);
}

/**
 * The C++ standard asked for: TRANSFUSION_CXX_STANDARD (17, 20 or 23), or '' for CMakeLists.txt's choice (C++20 wherever
 * the compiler has it; LibTorch 2.14 and later accept nothing older, and the configure refuses a standard they reject).
 */
function cxxStandard(env = process.env) {
  const asked = env.TRANSFUSION_CXX_STANDARD;
  if (asked === undefined || asked === '') return '';
  if (!/^(17|20|23)$/.test(asked)) throw new SetupError(`TRANSFUSION_CXX_STANDARD=${asked} is not 17, 20 or 23`);
  return asked;
}

const GLOO_HEADERS = ['/usr/include/gloo/config.h', '/usr/local/include/gloo/config.h'];

/**
 * What the CMake configuration depends on outside the tree: the LibTorch it was given and whether Gloo's headers are
 * there (CMake caches find_path's answer; a change has to reconfigure, or the addon keeps its old answer).
 */
function configurationInputs(torch, glooHeaders = GLOO_HEADERS, unity = false, standard = '') {
  const prefix = path.resolve(torch.dir, '..', '..', '..');
  const gloo = [...glooHeaders, path.join(prefix, 'include', 'gloo', 'config.h')].filter((f) => fs.existsSync(f));
  return { torchDir: torch.dir, gloo, unity, standard };
}

/** Whether the cached configuration in `buildDir` was made from other inputs (or there is none). */
function needsConfigure(buildDir, inputs) {
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) return true;
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(path.join(buildDir, 'transfusion-native-inputs.json'), 'utf8'))) !== JSON.stringify(inputs);
  } catch {
    return true;
  }
}

/** A checkout of the repository keeps its build folder for incremental builds; an installed package keeps the addon alone. */
function pruneBuild(buildDir) {
  if (isCheckout() || process.env.TRANSFUSION_KEEP_BUILD) return;
  for (const entry of fs.readdirSync(buildDir)) if (entry !== 'Release') fs.rmSync(path.join(buildDir, entry), { recursive: true, force: true });
  const release = path.join(buildDir, 'Release');
  for (const entry of fs.readdirSync(release)) if (!entry.endsWith('.node')) fs.rmSync(path.join(release, entry), { recursive: true, force: true });
}

function cmakeJs(args) {
  const r = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new SetupError(`the native build failed (cmake-js ${args[0]}, exit ${r.status}); see the compiler output above`);
}

/** Whether this install may use a prebuilt addon: an installed package (a checkout builds its own), unless
 * TRANSFUSION_BUILD_FROM_SOURCE=1; TRANSFUSION_PREBUILT=1 lets a checkout use one (tests). */
function mayUsePrebuilt(env = process.env, checkout = isCheckout()) {
  if (env.TRANSFUSION_BUILD_FROM_SOURCE === '1') return false;
  return !checkout || env.TRANSFUSION_PREBUILT === '1';
}

function build() {
  const torch = findTorch();
  const addon = path.join(root, 'build', 'Release', 'transfusion_native.node');
  if (mayUsePrebuilt()) {
    const { used, reasons } = installPrebuilt(torch.dir, path.join(root, 'prebuilds'), addon);
    for (const why of reasons) console.log(`transfusion-native: prebuilt addon refused: ${why}`);
    if (used) {
      console.log(`transfusion-native: using the prebuilt addon prebuilds/${used} (LibTorch from ${torch.source}); no compiler needed`);
      return;
    }
  }
  const jobs = String(buildJobs());
  const buildDir = path.join(root, 'build');
  const unity = unityBuild();
  const standard = cxxStandard();
  const inputs = configurationInputs(torch, GLOO_HEADERS, unity, standard);
  console.log(`transfusion-native: building against LibTorch from ${torch.source} (${torch.dir}), Gloo headers ${inputs.gloo.length ? 'found' : 'not found'}, ${unity ? 'unity batches' : 'one object per file'}, ${jobs} jobs`);
  const define = `--CDTorch_DIR=${torch.dir}`;
  if (needsConfigure(buildDir, inputs)) {
    cmakeJs(['configure', define, `--CDTN_UNITY=${unity ? 'ON' : 'OFF'}`, `--CDTN_CXX_STANDARD=${standard}`]);
    fs.writeFileSync(path.join(buildDir, 'transfusion-native-inputs.json'), JSON.stringify(inputs));
  }
  cmakeJs(['build', '--parallel', jobs, define]);
  if (process.argv.includes('--save-prebuilt') || process.env.TRANSFUSION_SAVE_PREBUILT === '1') console.log(`transfusion-native: prebuilt addon kept in ${path.relative(root, savePrebuilt(torch.dir, addon, path.join(root, 'prebuilds')))}`);
  pruneBuild(buildDir);
}

module.exports = { findTorch, buildJobs, unityBuild, cxxStandard, configurationInputs, needsConfigure, mayUsePrebuilt, SetupError };

if (require.main === module) {
  try {
    build();
  } catch (err) {
    console.error(`transfusion-native: ${err.message}`);
    process.exit(1);
  }
}
