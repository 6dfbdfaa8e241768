// A node:test reporter that writes, at the end of the run, what did not run
// and why: skipped tests, todo tests, tests cancelled with their file, and
// the tests inside skipped suites. Node 20 never calls a skipped suite's
// function, so its tests are never reported: they are counted here from the
// source (each test()/it() call inside the suite's body; one inside a loop
// counts as "at least one").
//
// scripts/run-tests.mjs passes it a file as its destination and prints that
// file after the run, as the run's closing lines.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;

/**
 * The test()/it() calls in the body of the describe()/suite() call that
 * starts at `line`:`column` (or, when no call starts there, the one named
 * `name` by a string literal).
 */
export function testsInSuite(source, fileName, { line, column, name }) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const suites = [];
  const findSuites = (node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['describe', 'suite'].includes(node.expression.text)) suites.push(node);
    ts.forEachChild(node, findSuites);
  };
  findSuites(file);
  const startsAt = (node) => {
    const at = file.getLineAndCharacterOfPosition(node.getStart(file));
    return at.line + 1 === line && (column === undefined || at.character + 1 === column);
  };
  const named = (node) => {
    const first = node.arguments[0];
    return first !== undefined && ts.isStringLiteralLike(first) && first.text === name;
  };
  const suite = suites.find(startsAt) ?? suites.find(named);
  if (suite === undefined) return undefined;
  let count = 0;
  let inLoop = false;
  const isLoop = (node) =>
    ts.isForStatement(node) ||
    ts.isForOfStatement(node) ||
    ts.isForInStatement(node) ||
    ts.isWhileStatement(node) ||
    ts.isDoStatement(node) ||
    (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ['forEach', 'map', 'flatMap'].includes(node.expression.name.text));
  const walk = (node, looping) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['test', 'it'].includes(node.expression.text)) {
      count += 1;
      if (looping) inLoop = true;
    }
    ts.forEachChild(node, (child) => walk(child, looping || isLoop(node)));
  };
  for (const arg of suite.arguments) walk(arg, false);
  return { count, atLeast: inLoop };
}

const where = (data) => {
  if (data.file === undefined) return '';
  const path = relative(root, data.file);
  return ` (${path.startsWith('..') ? data.file : path})`;
};
const reasonOf = (skip) => (typeof skip === 'string' && skip !== '' ? skip : 'no reason given');

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  const notRun = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    const isSuite = data.details?.type === 'suite';
    if (data.skip !== undefined && isSuite) {
      let counted;
      try {
        counted = testsInSuite(readFileSync(data.file, 'utf8'), data.file, data);
      } catch {
        counted = undefined;
      }
      notRun.push({
        count: counted?.count ?? 1,
        atLeast: counted === undefined || counted.atLeast,
        text: `in the skipped suite "${data.name}"${where(data)}: ${reasonOf(data.skip)}`,
      });
    } else if (isSuite) {
      continue;
    } else if (data.skip !== undefined) {
      notRun.push({ count: 1, atLeast: false, text: `skipped "${data.name}"${where(data)}: ${reasonOf(data.skip)}` });
    } else if (data.todo !== undefined) {
      notRun.push({ count: 1, atLeast: false, text: `todo "${data.name}"${where(data)}${typeof data.todo === 'string' ? `: ${data.todo}` : ''}` });
    } else if (event.type === 'test:fail' && data.details?.error?.failureType === 'cancelledByParent') {
      notRun.push({ count: 1, atLeast: false, text: `cancelled "${data.name}"${where(data)}: its file or suite ended first` });
    } else if (event.type === 'test:fail') failed += 1;
    else passed += 1;
  }
  const missing = notRun.reduce((sum, n) => sum + n.count, 0);
  const atLeast = notRun.some((n) => n.atLeast) ? 'at least ' : '';
  const ran = `${passed + failed} ${passed + failed === 1 ? 'test' : 'tests'} ran (${passed} passed, ${failed} failed)`;
  if (notRun.length === 0) {
    yield `run-tests: ${ran}; every test ran.\n`;
    return;
  }
  yield `run-tests: ${ran}; ${atLeast}${missing} did not run:\n`;
  for (const n of notRun) yield `  ${n.atLeast ? 'at least ' : ''}${n.count} ${n.text}\n`;
}
