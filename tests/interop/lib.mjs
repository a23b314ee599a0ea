// Shared helpers for the mcpsse interop clients (stdio_client.mjs,
// http_client.mjs, stateless_client.mjs): a tiny check runner with TAP-like
// output and the expectations for the example servers' echo/add tools.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/** A failed expectation; its message is printed as is. */
export class CheckFailure extends Error {}

/** Fails the current check with msg unless cond is truthy. */
export function expect(cond, msg) {
  if (!cond) throw new CheckFailure(msg);
}

/** Fails the current check unless actual deep-equals expected. */
export function expectEqual(actual, expected, msg) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new CheckFailure(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Per-request options for the SDK (INTEROP_REQUEST_TIMEOUT_MS, default 10 s). */
export const requestOptions = {
  timeout: Number(process.env.INTEROP_REQUEST_TIMEOUT_MS ?? 10000),
};

/**
 * Version of the installed package `name`, found from the entry point
 * `entry` resolves to ('unknown' if it is not installed).
 */
export function packageVersion(name, entry = name) {
  // Export maps may hide a package's package.json, so walk up from the
  // resolved entry point to the package root.
  try {
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve(entry));
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch { /* keep walking */ }
      const up = path.dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'unknown';
  }
}

/** Version of the installed @modelcontextprotocol/sdk package. */
export function sdkVersion() {
  return packageVersion('@modelcontextprotocol/sdk', '@modelcontextprotocol/sdk/client/index.js');
}

/**
 * Runs named checks in sequence, printing "ok - name" / "not ok - name" and,
 * at the end, "N passed, N failed". A watchdog fails the run if it hangs.
 */
export class Checks {
  constructor(timeoutMs = 90000) {
    this.passed = 0;
    this.failed = 0;
    this.known = 0;
    this.current = null;
    this.watchdog = setTimeout(() => {
      this.failed += 1;
      console.log(`not ok - watchdog: run exceeded ${timeoutMs} ms` +
        (this.current ? ` (stuck in "${this.current}")` : ''));
      this.summary();
      process.exit(1);
    }, timeoutMs);
  }

  /** Runs fn; returns true if it passed. fn may return a note to print. */
  async run(name, fn) {
    this.current = name;
    try {
      const note = await fn();
      this.passed += 1;
      console.log(`ok - ${name}${note ? ` (${note})` : ''}`);
      return true;
    } catch (e) {
      this.failed += 1;
      const msg = e instanceof CheckFailure ? e.message
        : `${e?.constructor?.name ?? 'Error'}${e?.code !== undefined ? ` ${e.code}` : ''}: ${e?.message ?? e}`;
      console.log(`not ok - ${name}`);
      for (const line of String(msg).split('\n')) console.log(`  # ${line}`);
      return false;
    } finally {
      this.current = null;
    }
  }

  /**
   * Runs a check that is known to fail because of a reported bug (issue
   * says which). A failure prints "not ok - name # TODO known issue: ..."
   * and is not counted as failed; a pass is counted as a failure, so that
   * the entry is removed once the bug is fixed.
   */
  async runKnownIssue(name, issue, fn) {
    this.current = name;
    try {
      const note = await fn();
      this.failed += 1;
      console.log(`not ok - ${name}${note ? ` (${note})` : ''}`);
      console.log(`  # passed, but it is listed as a known issue (${issue}): remove that entry`);
      return true;
    } catch (e) {
      this.known += 1;
      const msg = e instanceof CheckFailure ? e.message
        : `${e?.constructor?.name ?? 'Error'}${e?.code !== undefined ? ` ${e.code}` : ''}: ${e?.message ?? e}`;
      console.log(`not ok - ${name} # TODO known issue: ${issue}`);
      for (const line of String(msg).split('\n')) console.log(`  # ${line}`);
      return false;
    } finally {
      this.current = null;
    }
  }

  summary() {
    if (this.known) console.log(`# ${this.known} known issue(s), not counted as failures`);
    console.log(`${this.passed} passed, ${this.failed} failed`);
  }

  /** Optional cleanup, then the summary line and exit. */
  async finish(cleanup) {
    if (cleanup) {
      try { await cleanup(); } catch { /* best effort */ }
    }
    clearTimeout(this.watchdog);
    this.summary();
    process.exit(this.failed === 0 && this.passed > 0 ? 0 : 1);
  }
}

/** Asserts a tool's inputSchema is an object with the given property types, all required. */
export function assertToolSchema(tool, props) {
  const s = tool.inputSchema;
  expect(s && typeof s === 'object', `tool ${tool.name}: inputSchema missing`);
  expect(s.type === 'object', `tool ${tool.name}: inputSchema.type should be "object", got ${JSON.stringify(s.type)}`);
  expect(s.properties && typeof s.properties === 'object',
    `tool ${tool.name}: inputSchema.properties missing: ${JSON.stringify(s)}`);
  for (const [key, type] of Object.entries(props)) {
    expect(s.properties[key]?.type === type,
      `tool ${tool.name}: property "${key}" should have type "${type}", schema: ${JSON.stringify(s)}`);
    expect(Array.isArray(s.required) && s.required.includes(key),
      `tool ${tool.name}: property "${key}" should be required, schema: ${JSON.stringify(s)}`);
  }
}

/** Asserts a tools/call result is exactly one text item with the given text. */
export function assertTextContent(res, text, what) {
  expect(!res.isError, `${what} returned isError: ${JSON.stringify(res)}`);
  expectEqual(res.content, [{ type: 'text', text }], `${what} content`);
}

/**
 * Text the add tool should return for a + b. The values used here are exact
 * in binary floating point, so the shortest round-trip form is unambiguous
 * ("5.5", "5", "-98.75").
 */
export function expectedAddText(a, b) {
  return String(a + b);
}

/**
 * n distinct tools/call requests alternating between the echo-like tool
 * (argument text) and the add-like tool (arguments a, b), each with the
 * result it must get back. Without addName all requests are echo calls.
 */
export function makeConcurrentCalls(n, echoName, addName) {
  const tag = Math.random().toString(36).slice(2, 8);
  const calls = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 || !addName) {
      const text = `req-${i}-${tag}`;
      calls.push({ name: echoName, arguments: { text }, expected: text });
    } else {
      const a = i - 100;
      const b = (i % 4) * 0.25 + i * 1000;
      calls.push({ name: addName, arguments: { a, b }, expected: expectedAddText(a, b) });
    }
  }
  return calls;
}
