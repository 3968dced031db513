// One list of error codes in C++ (native/core/error.h's kErrorCodes) and one union in TypeScript (src/errors.ts),
// held equal here, with every code written in either tree checked to be listed.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadAddon } from '../../bindings/native';
import { NATIVE_ERROR_CODES, TS_ERROR_CODES } from '../../src';

const root = path.resolve(__dirname, '../..');
function sources(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p, ext) : ext.test(e.name) ? [p] : [];
  });
}
const codesIn = (files: string[], quote: RegExp) => new Set(files.flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(quote)].map((m) => m[1])));

describe('error codes', () => {
  it('are the same list in the addon and in TypeScript', () => {
    expect(loadAddon().errorCodes()).toEqual([...NATIVE_ERROR_CODES]);
  });

  it('cover every code the native sources raise', () => {
    const used = codesIn(sources(path.join(root, 'native'), /\.(cc|h)$/), /"((?:ERR_[A-Z_]+)|ABORT_ERR)"/g);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((c) => !(NATIVE_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('cover every code the TypeScript sources raise, and no code is listed twice', () => {
    const used = codesIn(sources(path.join(root, 'src'), /\.ts$/), /'((?:ERR_[A-Z_]+)|ABORT_ERR)'/g);
    const all: readonly string[] = [...NATIVE_ERROR_CODES, ...TS_ERROR_CODES];
    // Node's own codes that the readers compare a caught error against (zlib's bounded inflation), never raise.
    const nodes = ['ERR_BUFFER_TOO_LARGE'];
    expect([...used].filter((c) => !all.includes(c) && !nodes.includes(c))).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('are each documented in the README (issue 16: every error has a documented code)', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const all: readonly string[] = [...NATIVE_ERROR_CODES, ...TS_ERROR_CODES];
    expect(all.filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
  });

  it('word a C++ failure no check foresaw as a bug to report, never as a bare library message', () => {
    const header = fs.readFileSync(path.join(root, 'native/core/unforeseen.h'), 'utf8');
    expect(header).toContain('a bug in transfusion-native; please report it with the input that caused it');
    // Every C++ exception caught whole goes through unforeseen(): no ERR_NATIVE is made of a bare what().
    const bare = sources(path.join(root, 'native'), /\.(cc|h)$/).filter((f) => /"ERR_NATIVE",\s*e\.what\(\)/.test(fs.readFileSync(f, 'utf8')));
    expect(bare).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'native/napi/jobs.cc'), 'utf8')).toContain('tn::unforeseen(e.what())');
  });
});
