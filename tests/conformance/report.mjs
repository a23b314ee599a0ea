// Judges one conformance run: report.mjs <results-dir> <expected-failures.txt> <label>
//
// Every scenario directory holds the suite's checks.json. A scenario fails when
// any of its checks has status FAILURE (WARNING, INFO and SKIPPED do not fail
// it). Prints one line per scenario and closes with "N passed, N failed".
// Exit status 1 when a failing scenario is not listed for <label> in the
// expected-failures file, or a listed one passed (stale entry), or no results.
import fs from 'node:fs';
import path from 'node:path';

const [resultsDir, expectedFile, label] = process.argv.slice(2);

// expected-failures.txt: "<label> <scenario> <reason...>", '#' starts a comment; a label
// ending in '*' matches every label with that prefix ("*" alone matches all).
function readExpected() {
  const expected = new Map();
  const text = fs.existsSync(expectedFile) ? fs.readFileSync(expectedFile, 'utf8') : '';
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [who, scenario, ...reason] = line.split(/\s+/);
    if (!scenario || reason.length === 0) {
      console.error(`${expectedFile}:${index + 1}: need "<label> <scenario> <reason>"`);
      process.exit(1);
    }
    const matches = who === label || (who.endsWith('*') && label.startsWith(who.slice(0, -1)));
    if (matches) expected.set(scenario, reason.join(' '));
  }
  return expected;
}

function scenarioName(dir) {
  return dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
}

const scenarios = new Map();
for (const entry of fs.readdirSync(resultsDir, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue;
  const file = path.join(resultsDir, entry.name, 'checks.json');
  if (!fs.existsSync(file)) continue;
  const checks = JSON.parse(fs.readFileSync(file, 'utf8'));
  const name = scenarioName(entry.name);
  scenarios.set(name, [...(scenarios.get(name) ?? []), ...checks]);
}

if (scenarios.size === 0) {
  console.log(`no scenario results in ${resultsDir}; see suite.log there`);
  console.log('0 passed, 0 failed');
  process.exit(1);
}

const expected = readExpected();
let passed = 0, failed = 0, unexpected = 0, stale = 0, xfail = 0;
for (const name of [...scenarios.keys()].sort()) {
  const checks = scenarios.get(name);
  const failures = checks.filter((c) => c.status === 'FAILURE');
  const warnings = checks.filter((c) => c.status === 'WARNING').length;
  const note = `${checks.length} checks${warnings ? `, ${warnings} warnings` : ''}`;
  if (failures.length === 0) {
    passed++;
    if (expected.has(name)) {
      stale++;
      console.log(`XPASS ${name} (${note}) -- listed in expected-failures.txt; remove the entry`);
    } else {
      console.log(`PASS  ${name} (${note})`);
    }
    continue;
  }
  failed++;
  const tag = expected.has(name) ? 'XFAIL' : 'FAIL ';
  if (expected.has(name)) xfail++;
  else unexpected++;
  console.log(`${tag} ${name} (${note})${expected.has(name) ? ` -- expected: ${expected.get(name)}` : ''}`);
  for (const c of failures) console.log(`        ${c.id}: ${(c.errorMessage ?? '').split('\n')[0].slice(0, 300)}`);
}
for (const name of expected.keys())
  if (!scenarios.has(name)) console.log(`note: expected failure ${name} did not run`);
console.log(`${xfail} expected failures, ${unexpected} unexpected failures, ${stale} stale expectations`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(unexpected > 0 || stale > 0 ? 1 : 0);
