import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from '../helpers/tmp';

// The loader's advice when the addon was never built, as an installed dependency sees it (no tsconfig.json, no .git:
// `npm run build` would fail there) and as a checkout sees it.
describe('a missing addon', () => {
  const dir = tempDir('addon-missing');
  const compiled = path.join(__dirname, '../../dist/bindings/native.js');

  const adviceIn = (pkg: string) => {
    fs.mkdirSync(path.join(pkg, 'dist/bindings'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'transfusion-native' }));
    fs.copyFileSync(compiled, path.join(pkg, 'dist/bindings/native.js'));
    const script = `try { require(${JSON.stringify(path.join(pkg, 'dist/bindings/native.js'))}).loadAddon(); } catch (e) { console.log(e.code + ': ' + e.message); }`;
    return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
  };

  it('tells a dependent package to rebuild the package, and a checkout to run the build script', () => {
    const installed = adviceIn(path.join(dir, 'node_modules/transfusion-native'));
    expect(installed).toMatch(/^ERR_ADDON_NOT_BUILT: The native addon is not built \(.*transfusion_native\.node is missing\); run `npm rebuild transfusion-native`/);
    expect(installed).toContain('apt-get install libtorch-dev cmake g++ libgloo-dev');
    const checkout = path.join(dir, 'checkout');
    fs.mkdirSync(checkout, { recursive: true });
    fs.writeFileSync(path.join(checkout, 'tsconfig.json'), '{}');
    expect(adviceIn(checkout)).toContain(`run \`npm run build\` in ${checkout}`);
  });
});
