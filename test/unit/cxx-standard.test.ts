// CMakeLists.txt chooses the C++ standard from the LibTorch it finds: LibTorch 2.14's headers stop below C++20, and
// Torch's CMake config does not pass its own C++20 on to our targets. Each case configures the real CMakeLists.txt
// against a stand-in LibTorch (a TorchConfig.cmake and the version header, at 2.14's or 1.13's place) with this
// machine's compiler; nothing is compiled.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { hasCxx20 } from '../helpers/compiler';
import { tempDir } from '../helpers/tmp';

const root = path.resolve(__dirname, '..', '..');
const dir = tempDir('cxx-standard');

/** A stand-in LibTorch: its version header where that release keeps it (2.14 moved the macros to torch/headeronly). */
function fakeTorch(version: string): string {
  const [major, minor, patch] = version.split('.');
  const prefix = path.join(dir, `torch-${version}`);
  const header = Number(major) > 2 || (Number(major) === 2 && Number(minor) >= 14) ? 'torch/headeronly/version.h' : 'torch/version.h';
  fs.mkdirSync(path.dirname(path.join(prefix, 'include', header)), { recursive: true });
  fs.writeFileSync(
    path.join(prefix, 'include', header),
    `#pragma once\n#define TORCH_VERSION_MAJOR ${major}\n#define TORCH_VERSION_MINOR ${minor}\n#define TORCH_VERSION_PATCH ${patch}\n`,
  );
  fs.writeFileSync(
    path.join(prefix, 'TorchConfig.cmake'),
    'set(TORCH_INCLUDE_DIRS ${CMAKE_CURRENT_LIST_DIR}/include)\nset(TORCH_LIBRARIES "")\nset(TORCH_INSTALL_PREFIX ${CMAKE_CURRENT_LIST_DIR})\nset(Torch_FOUND TRUE)\n',
  );
  return prefix;
}

// CMake wraps its messages at 80 columns.
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

let builds = 0;
/** Configures CMakeLists.txt against the stand-in; the configure's output, exit status and the core's compile flags. */
function configure(version: string, ...defines: string[]): { status: number | null; output: string; flags: string } {
  const build = path.join(dir, `build-${builds++}`);
  const r = spawnSync('cmake', ['-S', root, '-B', build, '-G', 'Unix Makefiles', `-DTorch_DIR=${fakeTorch(version)}`, ...defines], { encoding: 'utf8' });
  const flagsFile = path.join(build, 'CMakeFiles', 'tn_core.dir', 'flags.make');
  return { status: r.status, output: oneLine(r.stdout + r.stderr), flags: fs.existsSync(flagsFile) ? fs.readFileSync(flagsFile, 'utf8') : '' };
}

const compilerHasCxx20 = hasCxx20();

describe("the C++ standard, chosen from the LibTorch found", () => {
  it('is C++20 for LibTorch 2.14 and later, stated in the configure output with the version read from torch/headeronly', () => {
    const r = configure('2.14.1');
    if (!compilerHasCxx20) {
      expect(r.status).not.toBe(0);
      return expect(r.output).toMatch(/LibTorch 2\.14\.1's headers require C\+\+20, which .* does not have/);
    }
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/transfusion-native: LibTorch 2\.14\.1, C\+\+20 \(LibTorch 2\.14\.1 requires it\), GNU \d+/);
    expect(r.flags).toMatch(/-std=gnu\+\+20/);
  });

  it("is C++20 for 1.13 and 2.6 too wherever the compiler has it (they accept either), so our code is one language on every LibTorch", () => {
    for (const version of ['1.13.1', '2.6.0']) {
      const r = configure(version);
      expect(r.status).toBe(0);
      const standard = compilerHasCxx20 ? 20 : 17;
      expect(r.output).toContain(`transfusion-native: LibTorch ${version}, C++${standard} (`);
      expect(r.flags).toContain(`-std=gnu++${standard}`);
    }
  });

  it('takes TN_CXX_STANDARD where LibTorch accepts it, and refuses a standard the headers reject or one that is not a standard', () => {
    const older = configure('1.13.1', '-DTN_CXX_STANDARD=17');
    expect(older.status).toBe(0);
    expect(older.output).toContain('transfusion-native: LibTorch 1.13.1, C++17 (TN_CXX_STANDARD)');
    expect(older.flags).toContain('-std=gnu++17');

    const rejected = configure('2.14.1', '-DTN_CXX_STANDARD=17');
    expect(rejected.status).not.toBe(0);
    expect(rejected.output).toContain("TN_CXX_STANDARD=17, but LibTorch 2.14.1's headers require C++20 or later");

    const bad = configure('2.6.0', '-DTN_CXX_STANDARD=18');
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('TN_CXX_STANDARD=18 is not 17, 20 or 23');
  });

  it('names the header when a LibTorch defines no version', () => {
    const prefix = fakeTorch('3.0.0');
    fs.writeFileSync(path.join(prefix, 'include', 'torch', 'headeronly', 'version.h'), '#pragma once\n');
    const build = path.join(dir, 'build-unversioned');
    const r = spawnSync('cmake', ['-S', root, '-B', build, `-DTorch_DIR=${prefix}`], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(oneLine(r.stdout + r.stderr)).toMatch(/torch\/headeronly\/version\.h defines no TORCH_VERSION_MAJOR/);
  });
});
