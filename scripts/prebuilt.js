// Prebuilt addons (issue 31): an install uses build/Release/transfusion_native.node from prebuilds/<key>/ when the
// LibTorch found is the one it was built against, and builds from source otherwise. Never guessed: the LibTorch found
// is identified by its CMake package version, its C++ ABI flag, whether it has CUDA, and its libtorch_cpu library's
// file name and size; a prebuilt addon whose manifest says anything else is refused with the reason, and one that
// matches is loaded in a child process (its LibTorch version and model registry checked) before it is kept.
//   node scripts/build-native.js --save-prebuilt   # CI: build, then keep the addon under prebuilds/ with its manifest
//   TRANSFUSION_SAVE_PREBUILT=1 npm ci               # the same, from the install script
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** What identifies the LibTorch whose CMake config is in `torchDir`, or null where it cannot be told. */
function torchIdentity(torchDir) {
  const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const version = /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(read(path.join(torchDir, 'TorchConfigVersion.cmake')))?.[1];
  const config = read(path.join(torchDir, 'TorchConfig.cmake'));
  // LibTorch up to 2.7 names its ABI in TORCH_CXX_FLAGS; later ones (sid's 2.14) build only the C++11 ABI and name none,
  // so no flag means the compiler's default, the C++11 ABI. A wrong reading is still caught: the addon must load.
  const abi = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(config)?.[1] ?? (config ? '1' : undefined);
  // The libraries beside the config: lib/<triplet>/cmake/Torch (Debian) or share/cmake/Torch with lib/ (pip, pytorch.org).
  const libDirs = [path.resolve(torchDir, '..', '..'), path.resolve(torchDir, '..', '..', '..', 'lib')];
  const libDir = libDirs.find((d) => fs.existsSync(path.join(d, 'libtorch_cpu.so')));
  if (!version || abi === undefined || !libDir) return null;
  const library = fs.realpathSync(path.join(libDir, 'libtorch_cpu.so'));
  return {
    version,
    cxx11Abi: abi === '1',
    cuda: fs.existsSync(path.join(libDir, 'libtorch_cuda.so')),
    library: { name: path.basename(library), bytes: fs.statSync(library).size },
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The folder name of a prebuilt addon for `identity`. */
const prebuiltKey = (id) => `${id.platform}-torch${id.version}-${id.cxx11Abi ? 'cxx11' : 'precxx11'}${id.cuda ? '-cuda' : ''}-${id.library.bytes}`;

/** Why `manifest` (a prebuilt's) does not fit `identity`, or '' where it does. */
function mismatch(manifest, identity) {
  const want = manifest?.identity;
  if (!want) return 'its manifest names no LibTorch';
  for (const key of ['platform', 'version', 'cxx11Abi', 'cuda'])
    if (want[key] !== identity[key]) return `built for ${key} ${JSON.stringify(want[key])}, this machine's LibTorch has ${JSON.stringify(identity[key])}`;
  if (want.library?.name !== identity.library.name || want.library?.bytes !== identity.library.bytes)
    return `built against ${want.library?.name} of ${want.library?.bytes} bytes, this machine has ${identity.library.name} of ${identity.library.bytes}`;
  return '';
}

/** Loads `file` in a child Node and returns the reason it is unusable ('' where it loads, its LibTorch is `torch` and its
 * registry lists models). */
function verifyAddon(file, torch) {
  const script = `const a = require(${JSON.stringify(file)}); const v = a.version(); const n = a.listModels().length; console.log(JSON.stringify({ torch: v.torch, models: n }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) return `it does not load here (${(r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0]})`;
  try {
    const got = JSON.parse(r.stdout.trim().split('\n').pop());
    if (got.torch !== torch) return `it reports LibTorch ${got.torch}, its manifest ${torch}`;
    if (!(got.models > 0)) return 'its model registry is empty';
  } catch {
    return `it printed ${JSON.stringify(r.stdout.slice(0, 200))}`;
  }
  return '';
}

/**
 * Installs the prebuilt addon for the LibTorch in `torchDir` as `target`, if `prebuildsDir` holds one that fits and
 * loads. Returns { used: key } or { used: null, reasons } (each prebuilt refused, and why; none found: no reasons).
 */
function installPrebuilt(torchDir, prebuildsDir, target) {
  const identity = torchIdentity(torchDir);
  if (!identity) return { used: null, reasons: [`the LibTorch in ${torchDir} could not be identified (version, ABI, libtorch_cpu.so)`] };
  if (!fs.existsSync(prebuildsDir)) return { used: null, reasons: [] };
  const reasons = [];
  for (const key of fs.readdirSync(prebuildsDir).sort()) {
    const folder = path.join(prebuildsDir, key);
    let manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
    } catch {
      reasons.push(`${key}: no readable manifest.json`);
      continue;
    }
    const why = mismatch(manifest, identity);
    if (why) {
      reasons.push(`${key}: ${why}`);
      continue;
    }
    const file = path.join(folder, 'transfusion_native.node');
    const broken = fs.existsSync(file) ? verifyAddon(file, manifest.addonTorch) : 'its transfusion_native.node is missing';
    if (broken) {
      reasons.push(`${key}: ${broken}`);
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.copyFileSync(file, tmp);
    fs.renameSync(tmp, target);
    return { used: key, reasons };
  }
  return { used: null, reasons };
}

/** Keeps the addon `addon` (just built against `torchDir`) under `prebuildsDir` with its manifest; returns its folder. */
function savePrebuilt(torchDir, addon, prebuildsDir) {
  const identity = torchIdentity(torchDir);
  if (!identity) throw new Error(`the LibTorch in ${torchDir} could not be identified: no prebuilt kept`);
  const r = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).version().torch)`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the addon just built does not load: ${r.stderr}`);
  const folder = path.join(prebuildsDir, prebuiltKey(identity));
  fs.mkdirSync(folder, { recursive: true });
  fs.copyFileSync(addon, path.join(folder, 'transfusion_native.node'));
  fs.writeFileSync(path.join(folder, 'manifest.json'), `${JSON.stringify({ identity, addonTorch: r.stdout.trim(), node: process.version, builtAt: new Date().toISOString() }, null, 2)}\n`);
  return folder;
}

module.exports = { torchIdentity, prebuiltKey, mismatch, verifyAddon, installPrebuilt, savePrebuilt };
