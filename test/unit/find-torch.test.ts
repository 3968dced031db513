import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from '../helpers/tmp';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { findTorch } = require('../../scripts/build-native.js') as {
  findTorch: (o: { env?: Record<string, string>; pythons?: string[]; systemDirs?: string[]; mayInstall?: boolean }) => { dir: string; source: string };
};

const dir = tempDir('torch');
const configDir = (name: string) => {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'TorchConfig.cmake'), '# fake');
  return d;
};

describe('finding LibTorch', () => {
  const system = configDir('system/Torch');
  const none = { pythons: [], systemDirs: [], mayInstall: false };

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
});
