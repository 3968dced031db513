import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from '../helpers/tmp';

// `npm publish` runs scripts/check-publish.js first (prepublishOnly): this package names no repository, homepage or
// bugs address (it has no public one yet), so publishing it as it is must be refused, and once they are added, allowed.
const root = path.resolve(__dirname, '../..');
const script = path.join(root, 'scripts/check-publish.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('scripts/check-publish.js', () => {
  const dir = tempDir('check-publish');
  const packageDir = (name: string, extra: object, files = ['LICENSE', 'CHANGELOG.md']) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ ...pkg, ...extra }));
    for (const f of files) fs.copyFileSync(path.join(root, f), path.join(d, f));
    return d;
  };
  const check = (d: string) => spawnSync(process.execPath, [script, d], { encoding: 'utf8' });

  it('is what npm publish runs first', () => {
    expect(pkg.scripts.prepublishOnly).toBe('node scripts/check-publish.js');
  });

  it('refuses this package as it is, naming each missing address', () => {
    const r = check(root);
    expect(r.status).toBe(1);
    for (const field of ['repository', 'homepage', 'bugs']) expect(r.stderr).toContain(`package.json has no ${field} URL`);
    expect(r.stderr).not.toContain('LICENSE');
    expect(r.stderr).not.toContain('CHANGELOG');
  });

  it('allows it once the addresses are there, and refuses a version the changelog does not cover or a missing LICENSE', () => {
    const urls = { repository: { type: 'git', url: 'git+https://example.org/t/transfusion-native.git' }, homepage: 'https://example.org/t', bugs: { url: 'https://example.org/t/issues' } };
    const ok = check(packageDir('ok', urls));
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const unlisted = check(packageDir('unlisted', { ...urls, version: '9.9.9' }));
    expect(unlisted.status).toBe(1);
    expect(unlisted.stderr).toContain('CHANGELOG.md has no section for version 9.9.9');
    const unlicensed = check(packageDir('unlicensed', urls, ['CHANGELOG.md']));
    expect(unlicensed.status).toBe(1);
    expect(unlicensed.stderr).toContain('there is no LICENSE file');
  });
});
