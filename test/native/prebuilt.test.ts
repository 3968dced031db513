// Prebuilt addons (issue 31): an install uses one only for the LibTorch it was built against, checked by identity and
// by loading it, and then needs no compiler; any other is refused with its reason and the install builds from source.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from '../helpers/tmp';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { installPrebuilt, savePrebuilt, torchIdentity } = require('../../scripts/prebuilt.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findTorch } = require('../../scripts/build-native.js');

const root = path.resolve(__dirname, '../..');
const built = path.join(root, 'build', 'Release', 'transfusion_native.node');
const dir = tempDir('prebuilt');

describe('prebuilt addons', () => {
  const torch = findTorch();
  const prebuilds = path.join(dir, 'prebuilds');
  let key = '';

  it('identifies this machine\'s LibTorch and keeps the addon built against it with a manifest', () => {
    const id = torchIdentity(torch.dir);
    const version = /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(fs.readFileSync(path.join(torch.dir, 'TorchConfigVersion.cmake'), 'utf8'))![1];
    expect(id).toMatchObject({ version, platform: `${process.platform}-${process.arch}`, library: { name: expect.stringMatching(/^libtorch_cpu\.so/), bytes: expect.any(Number) } });
    const folder = savePrebuilt(torch.dir, built, prebuilds);
    key = path.basename(folder);
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
    expect(manifest.identity).toEqual(id);
    expect(manifest.addonTorch).toBe(require('../../src').versions().torch);
  });

  it('reads the ABI from TorchConfig.cmake, and takes the C++11 ABI where a newer LibTorch names none', () => {
    // Debian's layout: lib/<triplet>/cmake/Torch beside lib/<triplet>/libtorch_cpu.so.
    const fake = (name: string, config: string | null) => {
      const lib = path.join(dir, 'fake', name, 'lib');
      const cmake = path.join(lib, 'cmake', 'Torch');
      fs.mkdirSync(cmake, { recursive: true });
      fs.writeFileSync(path.join(cmake, 'TorchConfigVersion.cmake'), 'set(PACKAGE_VERSION "2.14.1")\n');
      if (config !== null) fs.writeFileSync(path.join(cmake, 'TorchConfig.cmake'), config);
      fs.writeFileSync(path.join(lib, 'libtorch_cpu.so.2.14.1'), Buffer.alloc(123));
      fs.symlinkSync('libtorch_cpu.so.2.14.1', path.join(lib, 'libtorch_cpu.so'));
      return cmake;
    };
    expect(torchIdentity(fake('old', 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")\n'))).toMatchObject({ cxx11Abi: false, version: '2.14.1', cuda: false, library: { name: 'libtorch_cpu.so.2.14.1', bytes: 123 } });
    expect(torchIdentity(fake('new', 'set_target_properties(torch PROPERTIES CXX_STANDARD 20)\n'))).toMatchObject({ cxx11Abi: true, version: '2.14.1' });
    expect(torchIdentity(fake('none', null))).toBeNull();
  });

  it('installs it for the same LibTorch, after loading it in a child process', () => {
    const target = path.join(dir, 'install', 'transfusion_native.node');
    expect(installPrebuilt(torch.dir, prebuilds, target)).toEqual({ used: key, reasons: [] });
    expect(fs.readFileSync(target).equals(fs.readFileSync(built))).toBe(true);
  });

  it('refuses one built for another LibTorch, or one that does not load, naming why', () => {
    const other = path.join(dir, 'other');
    const copy = (name: string, edit: (m: { identity: Record<string, unknown>; addonTorch: string }) => void, addon?: Buffer) => {
      const folder = path.join(other, name);
      fs.cpSync(path.join(prebuilds, key), folder, { recursive: true });
      const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
      edit(manifest);
      fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
      if (addon) fs.writeFileSync(path.join(folder, 'transfusion_native.node'), addon);
    };
    copy('a-version', (m) => (m.identity.version = '9.9.9'));
    copy('b-library', (m) => ((m.identity.library as { bytes: number }).bytes += 1));
    copy('c-abi', (m) => (m.identity.cxx11Abi = !m.identity.cxx11Abi));
    copy('d-corrupt', () => {}, Buffer.from('not an ELF file'));
    copy('e-torch', (m) => (m.addonTorch = '0.0.1'));
    const target = path.join(dir, 'refused', 'transfusion_native.node');
    const r = installPrebuilt(torch.dir, other, target);
    expect(r.used).toBeNull();
    expect(r.reasons).toEqual([
      expect.stringMatching(/^a-version: built for version "9\.9\.9", this machine's LibTorch has "/),
      expect.stringMatching(/^b-library: built against libtorch_cpu\.so.* of \d+ bytes, this machine has /),
      expect.stringMatching(/^c-abi: built for cxx11Abi (true|false)/),
      expect.stringMatching(/^d-corrupt: it does not load here/),
      expect.stringMatching(/^e-torch: it reports LibTorch .*, its manifest 0\.0\.1$/),
    ]);
    expect(fs.existsSync(target)).toBe(false);
  }, 120_000);

  it('an install with the prebuilt needs no compiler: build-native.js with only node on PATH', () => {
    // The package as installed: scripts/ and prebuilds/ (no .git, so prebuilt addons are allowed), no cmake, no c++.
    const pkg = path.join(dir, 'package');
    fs.cpSync(path.join(root, 'scripts'), path.join(pkg, 'scripts'), { recursive: true });
    fs.cpSync(prebuilds, path.join(pkg, 'prebuilds'), { recursive: true });
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { PATH: bin, HOME: dir };
    for (const tool of ['cmake', 'c++', 'g++']) expect(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env }).status).not.toBe(0);
    const started = Date.now();
    const r = spawnSync(process.execPath, [path.join(pkg, 'scripts', 'build-native.js')], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`using the prebuilt addon prebuilds/${key}`);
    expect(fs.existsSync(path.join(pkg, 'build', 'Release', 'transfusion_native.node'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
    // TRANSFUSION_BUILD_FROM_SOURCE=1 goes to the compiler, which is not there: the build is attempted and fails.
    const forced = spawnSync(process.execPath, [path.join(pkg, 'scripts', 'build-native.js')], { encoding: 'utf8', env: { ...env, TRANSFUSION_BUILD_FROM_SOURCE: '1' } });
    expect(forced.status).not.toBe(0);
    expect(forced.stdout).not.toContain('using the prebuilt addon');
  }, 120_000);
});
