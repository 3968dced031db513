import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// The package as a dependent sees it: the exports map (types first), CommonJS and ESM, deep paths closed.
describe('the package entry points', () => {
  const root = path.resolve(__dirname, '../..');
  const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

  it('loads from CommonJS and ESM by its name, with the same exports, and closes deep paths', () => {
    const cjs = node(['-e', "console.log(Object.keys(require('transfusion-native')).sort().join(','))"]);
    const esm = node(['--input-type=module', '-e', "const m = await import('transfusion-native'); console.log(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort().join(','))"]);
    expect(cjs.split(',')).toEqual(expect.arrayContaining(['createModel', 'train', 'runStudy', 'similarity']));
    expect(esm).toBe(cjs);
    expect(node(['-e', "console.log(require('transfusion-native/package.json').name)"])).toBe('transfusion-native');
    expect(() => execFileSync(process.execPath, ['-e', "require('transfusion-native/dist/src/train')"], { cwd: root, stdio: 'pipe' })).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('loads no image or figure library with the package: sharp, vega and the DICOM codecs wait for their first use', () => {
    const loaded = node(['-e', "require('transfusion-native'); console.log(Object.keys(require.cache).filter((k) => /node_modules[\\/](sharp|vega|vega-lite|dicom-parser|@cornerstonejs|jpeg-lossless-decoder-js)[\\/]/.test(k)).length)"]);
    expect(loaded).toBe('0');
  });

  it("turns UCX's memory hooks off when it loads the addon, unless the user set them", () => {
    const script = "const t = require('transfusion-native'); t.listModels(); console.log([process.env.UCX_MEM_EVENTS, process.env.UCX_MEM_MMAP_HOOK_MODE].join(','))";
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UCX_')));
    expect(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env }).trim()).toBe('no,none');
    expect(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...env, UCX_MEM_EVENTS: 'yes' } }).trim()).toBe('yes,none');
  });
});
