#!/usr/bin/env node
// The API reference's completeness check: every export of src/index.ts has a JSDoc comment, and so has every public
// member of an exported class. A function or method also needs `@returns` unless it returns nothing (void,
// Promise<void>), and `@throws` when its own body can throw: it throws, checks its arguments (check*, require*,
// invalidArg) or calls the addon (addon(), callNative, awaitJob, a handle's method but dispose). Prints what is missing, one line each
// with its file and line, and exits 1 when anything is; 0 and "0 missing" otherwise.
// Usage: `node scripts/check-jsdoc.js [ENTRY]` (default src/index.ts; test/unit/jsdoc.test.ts runs it).
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const entry = path.resolve(process.argv[2] ?? path.join(root, 'src', 'index.ts'));
const program = ts.createProgram([entry], { strict: true, esModuleInterop: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022 });
const checker = program.getTypeChecker();
const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry));
const exportsOf = checker.getExportsOfModule(moduleSymbol);

// What in a body means it can throw: a throw, an argument check, or a call into the addon (whose errors cross as codes).
const CAN_THROW = /\bthrow\b|\bcheck[A-Z]\w*\(|\brequire[A-Z]\w*\(|\binvalidArg\(|\baddon\(\)|\bcallNative\(|\bawaitJob\(|\bthis\.native\.(?!dispose\(\)|disposed\b)/;

const problems = [];
const where = (node) => {
  const sf = node.getSourceFile();
  return `${path.relative(root, sf.fileName)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
};
const docOf = (symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
// JSDoc tags of a declaration, its overloads and (for a parameter property or a variable) its parents.
const tagsOf = (decl) => new Set(ts.getJSDocTags(decl).map((t) => t.tagName.text));

function returnsNothing(decl) {
  const signature = checker.getSignatureFromDeclaration(decl);
  if (!signature) return true;
  let type = checker.getReturnTypeOfSignature(signature);
  const text = checker.typeToString(type);
  if (/^Promise<(void|undefined)>$/.test(text)) return true;
  return (type.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined | ts.TypeFlags.Never)) !== 0;
}

function checkFunction(name, decl) {
  const tags = tagsOf(decl);
  if (!tags.has('returns') && !tags.has('return') && !returnsNothing(decl)) problems.push(`${name}\t${where(decl)}\tno @returns`);
  if (!tags.has('throws') && decl.body && CAN_THROW.test(decl.body.getText())) problems.push(`${name}\t${where(decl)}\tno @throws (it can throw)`);
}

function isPublicMember(member) {
  const flags = ts.getCombinedModifierFlags(member);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  if (member.name && ts.isPrivateIdentifier(member.name)) return false;
  return !ts.getJSDocTags(member).some((t) => t.tagName.text === 'internal');
}

for (const exported of exportsOf) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decl = symbol.declarations?.[0];
  if (!decl) {
    problems.push(`${exported.name}\t?\tno declaration found`);
    continue;
  }
  if (!docOf(symbol)) {
    problems.push(`${exported.name}\t${where(decl)}\tno JSDoc`);
    continue;
  }
  if (ts.isFunctionDeclaration(decl)) checkFunction(exported.name, decl);
  if (ts.isClassDeclaration(decl)) {
    for (const member of decl.members) {
      if (!isPublicMember(member) || ts.isConstructorDeclaration(member) || ts.isSemicolonClassElement(member)) continue;
      const memberName = `${exported.name}.${member.name.getText()}`;
      const memberSymbol = checker.getSymbolAtLocation(member.name);
      if (!memberSymbol || !docOf(memberSymbol)) {
        problems.push(`${memberName}\t${where(member)}\tno JSDoc`);
        continue;
      }
      if (ts.isMethodDeclaration(member)) checkFunction(memberName, member);
    }
  }
}

console.log(`${exportsOf.length} exports checked: ${problems.length} missing`);
if (problems.length) {
  console.log(problems.join('\n'));
  process.exitCode = 1;
}
