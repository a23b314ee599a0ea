// Compares two conformance runs of the same suite:
//
//   compare.mjs <direct-results-dir> <bridged-results-dir>
//
// <direct-results-dir>: the suite against a server over its own HTTP transport;
// <bridged-results-dir>: the same suite against the same server behind
// mcpsse-bridge. A scenario passes when none of its checks has status FAILURE
// (as in report.mjs). Prints both lists, then the differences. Exit status 0
// when every scenario that passes directly also passes through the bridge (one
// passing only through the bridge is fine), 1 otherwise or when a run left no
// results or passed no scenario at all (nothing was compared).
import fs from 'node:fs';
import path from 'node:path';

const [directDir, bridgedDir] = process.argv.slice(2);
if (!directDir || !bridgedDir) {
  console.error('usage: compare.mjs <direct-results-dir> <bridged-results-dir>');
  process.exit(2);
}

function scenarioName(dir) {
  return dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
}

/** scenario -> {passed, failures: [first lines]} of one results directory. */
function load(dir) {
  const scenarios = new Map();
  if (!fs.existsSync(dir)) return scenarios;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = path.join(dir, entry.name, 'checks.json');
    if (!fs.existsSync(file)) continue;
    const name = scenarioName(entry.name);
    const checks = [...(scenarios.get(name)?.checks ?? []), ...JSON.parse(fs.readFileSync(file, 'utf8'))];
    scenarios.set(name, { checks });
  }
  for (const s of scenarios.values()) {
    const failures = s.checks.filter((c) => c.status === 'FAILURE');
    s.passed = failures.length === 0;
    s.failures = failures.map((c) => `${c.id}: ${(c.errorMessage ?? '').split('\n')[0].slice(0, 240)}`);
  }
  return scenarios;
}

const direct = load(directDir);
const bridged = load(bridgedDir);
const passing = (m) => [...m.keys()].filter((k) => m.get(k).passed).sort();

let bad = false;
for (const [what, m, dir] of [['direct', direct, directDir], ['bridged', bridged, bridgedDir]]) {
  if (m.size === 0) {
    console.log(`no scenario results in ${dir}; see suite.log next to it`);
    bad = true;
    continue;
  }
  const p = passing(m);
  console.log(`${what}: ${p.length} of ${m.size} scenarios pass: ${p.join(' ') || '(none)'}`);
  if (p.length === 0) bad = true;
}
if (bad) {
  console.log('nothing to compare');
  process.exit(1);
}

const lost = passing(direct).filter((k) => !bridged.get(k)?.passed);
const gained = passing(bridged).filter((k) => !direct.get(k)?.passed);
for (const k of lost) {
  const s = bridged.get(k);
  console.log(`FAIL  ${k}: passes directly, ${s ? 'fails' : 'did not run'} through the bridge`);
  for (const f of s?.failures ?? []) console.log(`        ${f}`);
}
for (const k of gained) console.log(`note  ${k}: passes through the bridge only`);
const both = passing(direct).length - lost.length;
console.log(`${both} scenarios pass both ways, ${lost.length} pass directly only, ${gained.length} through the bridge only`);
process.exit(lost.length === 0 ? 0 : 1);
