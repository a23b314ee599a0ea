// Drives sse_server's demo page (examples/sse_server/demo.html, served at /) in a real
// headless Chromium with puppeteer-core, through a TCP proxy of its own so the test can
// see every request the browser sends and cut the live connections mid-run.
//
//   node browser_client.mjs <server-url> <cors-server-url> <chromium> <artifact-dir>
//
// <server-url> is sse_server with default options, <cors-server-url> one started with
// --cors-origin '*'.
//
// Checks: the page loads from / (text/html; charset=utf-8, through the proxy, same
// origin as /mcp); Connect initializes a session (its POSTs carry Origin and the
// server's default Origin check accepts them) and opens the standalone GET stream;
// a build_report run reaches 100 % with steps 1..N in order and the result; Cancel
// sends notifications/cancelled, the page shows cancelled, no result and no further
// step arrives, and the server counts the call as cancelled (/metrics); a forced drop
// of every live connection mid-run is resumed with GET + Last-Event-ID and every step
// 1..N appears exactly once, in order; Disconnect sends DELETE; a session ended behind
// the page's back is shown as an error and Start opens a new one; the page served from
// another origin is refused by the default server and works against the CORS one. A
// screenshot is saved to <artifact-dir>/demo.png and the page's event log to
// <artifact-dir>/demo-log.txt. Prints "ok - ..." / "not ok - ..." and a last line
// "client: N passed, N failed"; exits 1 on any failure.
import { writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import puppeteer from "puppeteer-core";

const [serverUrl, corsServerUrl, chromium, artifactDir] = process.argv.slice(2);
if (!serverUrl || !corsServerUrl || !chromium || !artifactDir) {
  console.error("usage: node browser_client.mjs <server-url> <cors-server-url> <chromium> <artifact-dir>");
  process.exit(2);
}
const server = new URL(serverUrl);
const corsServer = new URL(corsServerUrl);
const STEPS = 7;

let passed = 0;
let failed = 0;
function check(condition, text, ...details) {
  if (condition) {
    passed++;
    console.log(`ok - ${text}`);
  } else {
    failed++;
    console.log(`not ok - ${text}`);
    for (const line of details) console.log(`  # ${line}`);
  }
  return condition;
}

// ---- the proxy -----------------------------------------------------------------------
// Forwards each browser connection to the server, records the request heads it carries
// (method, path, Origin, Mcp-Session-Id, Last-Event-ID), can stall the server-to-browser
// direction (its bytes are discarded) and can destroy every live connection at once: a
// network drop that loses what was in flight.
function startProxy(target) {
  const live = new Set();
  const state = { swallowing: false, swallowed: "" };
  const requests = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair = { client, upstream };
    live.add(pair);
    let text = "";
    client.on("data", (chunk) => {
      text += chunk.toString("latin1");
      // Request heads; bodies are small JSON and never contain a request line.
      const head = /(GET|POST|DELETE|OPTIONS) (\S+) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/g;
      let match;
      let consumed = 0;
      while ((match = head.exec(text)) !== null) {
        const fields = {};
        for (const line of match[3].split("\r\n")) {
          const colon = line.indexOf(":");
          if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        requests.push({ method: match[1], path: match[2], fields, at: Date.now() });
        consumed = head.lastIndex;
      }
      text = text.slice(consumed);
      if (text.length > 1 << 20) text = text.slice(-4096);
    });
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (!state.swallowing) return client.write(chunk);
      state.swallowed += chunk.toString("latin1");  // lost with the connection, as in a real drop
    });
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  return new Promise((resolve) => {
    proxy.listen(0, "127.0.0.1", () => {
      resolve({
        port: proxy.address().port,
        requests,
        liveCount: () => live.size,
        // From now on the server's bytes reach nobody (a stalled network); returns a
        // function that counts the progress notifications swallowed so far.
        swallow() {
          state.swallowing = true;
          state.swallowed = "";
          return () => (state.swallowed.match(/"method":"notifications\/progress"/g) || []).length;
        },
        dropAll() {
          state.swallowing = false;
          const n = live.size;
          for (const { client, upstream } of live) {
            client.resetAndDestroy ? client.resetAndDestroy() : client.destroy();
            upstream.destroy();
          }
          live.clear();
          return n;
        },
        close: () => new Promise((done) => { for (const { client, upstream } of live) { client.destroy(); upstream.destroy(); } proxy.close(done); }),
      });
    });
  });
}

// ---- helpers ---------------------------------------------------------------------------
async function metric(name, labels) {
  const response = await fetch(new URL("/metrics", server));
  const text = await response.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels && !labels.every((l) => (m[2] || "").includes(l))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

async function waitFor(what, predicate, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The page's task panel as its data-* attributes and lists show it.
const taskState = (page) => page.evaluate(() => ({
  state: document.getElementById("task").dataset.state,
  percent: Number(document.getElementById("task").dataset.percent || 0),
  steps: [...document.querySelectorAll("#steps li")].map((li) => Number(li.dataset.step)),
  stepText: document.getElementById("step-text").textContent,
  outcome: document.getElementById("outcome").textContent,
  outcomeClass: document.getElementById("outcome").className,
  elapsed: document.getElementById("elapsed").textContent,
  status: document.getElementById("status").dataset.state,
  reconnections: Number(document.getElementById("count-reconnections").textContent),
  progressCount: Number(document.getElementById("count-progress").textContent),
}));

const expectedSteps = (n) => Array.from({ length: n }, (_, i) => i + 1);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function startRun(page, intervalMs) {
  await page.$eval("#steps-input", (el, v) => { el.value = String(v); }, STEPS);
  await page.$eval("#interval-input", (el, v) => { el.value = String(v); }, intervalMs);
  await page.click("#start");
  await waitFor("the task to run", async () => (await taskState(page)).state === "running", 5000);
}

// ---- the run -------------------------------------------------------------------------
const proxy = await startProxy(server);
const pageUrl = `http://127.0.0.1:${proxy.port}/`;
console.log(`# server ${server.href}, proxy ${pageUrl}`);
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: false,  // the flags below choose the headless mode
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--window-size=1280,1000"],
  defaultViewport: { width: 1280, height: 1000 },
});
const pageErrors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));

  // 1. The page itself.
  const response = await page.goto(pageUrl, { waitUntil: "load" });
  check(response.status() === 200 && response.headers()["content-type"] === "text/html; charset=utf-8",
        "GET / serves the demo page as text/html; charset=utf-8",
        `status ${response.status()}, content-type ${response.headers()["content-type"]}`);
  check((await page.title()).includes("mcpsse"), "the page has its title");

  // 2. Connect: initialize, notifications/initialized, standalone GET stream.
  await page.click("#connect");
  await waitFor("the connection", async () =>
    (await page.$eval("#status", (el) => el.dataset.state)) === "connected" &&
    (await page.$eval("#get-stream", (el) => el.textContent)) === "open");
  const sessionId = await page.$eval("#session", (el) => el.textContent);
  check(/^[\x21-\x7e]+$/.test(sessionId), `the page read Mcp-Session-Id from the initialize response (${sessionId})`);
  const posts = proxy.requests.filter((r) => r.method === "POST" && r.path === "/mcp");
  check(posts.length >= 2 && posts.every((r) => r.fields.origin === `http://127.0.0.1:${proxy.port}`),
        "the browser's POSTs carry the page's Origin and the default Origin check accepts them",
        ...posts.map((r) => `POST origin=${r.fields.origin}`));
  const get = proxy.requests.find((r) => r.method === "GET" && r.path === "/mcp");
  check(get && get.fields["mcp-session-id"] === sessionId && !get.fields["last-event-id"],
        "the standalone GET stream carries Mcp-Session-Id", JSON.stringify(get));

  // 3. A full run: 100 %, steps 1..N in order, the result.
  await startRun(page, 250);
  let s = await waitFor("the run to end", async () => {
    const t = await taskState(page);
    return t.state !== "running" ? t : null;
  });
  check(s.state === "done" && s.percent === 100, `the run ends done at 100 % (state ${s.state}, ${s.percent} %)`);
  check(same(s.steps, expectedSteps(STEPS)), `every step 1..${STEPS} shown once, in order`, `steps ${s.steps}`);
  check(s.stepText === `Step ${STEPS} of ${STEPS}: Publishing report`, `the last step reads "${s.stepText}"`);
  check(s.outcomeClass === "result" && s.outcome.includes(`report built in ${STEPS} steps`),
        `the result is shown ("${s.outcome}")`);
  check(/^elapsed [0-9]+\.[0-9] s$/.test(s.elapsed) && Number(s.elapsed.split(" ")[1]) >= (STEPS * 0.25) - 0.1,
        `the elapsed time is shown (${s.elapsed})`);

  const logErrors = await page.$$eval("#log li.error", (items) => items.map((li) => li.textContent));
  check(s.reconnections === 0 && logErrors.length === 0, "the run needs no reconnection and logs no error",
        `reconnections ${s.reconnections}`, ...logErrors);

  // 4. Cancel after step 2: the page shows cancelled, no result and no further step; the
  //    server ends the handler as cancelled.
  const cancelledBefore = await metric("mcpsse_tool_calls_total", ['tool="build_report"', 'outcome="cancelled"']);
  await startRun(page, 400);
  await waitFor("step 2", async () => (await taskState(page)).steps.length >= 2);
  await page.click("#cancel");
  s = await taskState(page);
  check(s.state === "cancelled" && s.outcomeClass === "cancelled", `the page shows the run cancelled ("${s.outcome}")`);
  const counted = await waitFor("the server to count the cancelled call", async () =>
    (await metric("mcpsse_tool_calls_total", ['tool="build_report"', 'outcome="cancelled"'])) === cancelledBefore + 1, 5000)
    .catch(() => false);
  check(counted, "the server counts the build_report call as cancelled (mcpsse_tool_calls_total, outcome cancelled)");
  check(await waitFor("no handler running", async () => (await metric("mcpsse_rpc_requests_in_flight")) === 0, 5000).catch(() => false),
        "no handler runs on after the cancel (mcpsse_rpc_requests_in_flight 0)");
  const stepsAtCancel = s.steps.length;
  await new Promise((r) => setTimeout(r, 1000));  // 2.5 intervals: a step or result would have arrived
  s = await taskState(page);
  check(s.steps.length === stepsAtCancel && s.state === "cancelled" && !s.outcome.includes("report built"),
        `no step and no result arrive after the cancel (still ${s.steps.length} steps)`);

  // 5. A network drop mid-run: after step 3 the proxy stalls (steps 4 and 5 are sent by
  //    the server and lost), then destroys every live connection (the POST's response
  //    stream and the standalone GET stream); the page resumes both with GET +
  //    Last-Event-ID, the server replays the lost steps and no step is lost.
  const resumptionsBefore = await metric("mcpsse_sse_resumptions_total");
  const replayedBefore = await metric("mcpsse_sse_replayed_events_total");
  const requestsBefore = proxy.requests.length;
  await startRun(page, 400);
  await waitFor("step 3", async () => (await taskState(page)).steps.length >= 3);
  const swallowed = proxy.swallow();
  await waitFor("steps 4 and 5 lost in the stalled network", async () => swallowed() >= 2, 5000);
  const stepsBeforeDrop = (await taskState(page)).steps;
  const lost = swallowed();
  const dropped = proxy.dropAll();
  const dropAt = Date.now();
  console.log(`# ${lost} progress notifications lost, then ${dropped} live connections dropped; the page had steps ${stepsBeforeDrop}`);
  s = await waitFor("the resumed run to end", async () => {
    const t = await taskState(page);
    return t.state !== "running" ? t : null;
  }, 20000);
  check(s.state === "done" && s.percent === 100, `the dropped run still ends done at 100 % (state ${s.state}, ${s.percent} %)`,
        `outcome: ${s.outcome}`);
  check(same(s.steps, expectedSteps(STEPS)), `after the drop every step 1..${STEPS} appears exactly once, in order`,
        `steps ${s.steps}`);
  const resumed = proxy.requests.slice(requestsBefore)
    .filter((r) => r.method === "GET" && r.at >= dropAt && r.fields["last-event-id"]);
  check(resumed.length >= 2 && resumed.every((r) => r.fields["mcp-session-id"] === sessionId),
        `the page resumed its streams with GET + Mcp-Session-Id + Last-Event-ID (${resumed.length} GETs)`,
        ...resumed.map((r) => `GET Last-Event-ID: ${r.fields["last-event-id"]}`));
  const resumptions = await metric("mcpsse_sse_resumptions_total") - resumptionsBefore;
  check(resumptions >= 2, `the server resumed both streams (mcpsse_sse_resumptions_total +${resumptions})`);
  const replayed = await metric("mcpsse_sse_replayed_events_total") - replayedBefore;
  check(replayed >= lost && lost >= 2, `the server replayed the ${lost} lost steps (mcpsse_sse_replayed_events_total +${replayed})`);
  check(s.reconnections >= 2 && s.status === "connected", `the page counts ${s.reconnections} reconnections and is connected again`);
  await waitFor("the GET stream open again", async () => (await page.$eval("#get-stream", (el) => el.textContent)) === "open", 5000)
    .then(() => check(true, "the standalone GET stream is open again"),
          (e) => check(false, "the standalone GET stream is open again", e.message));

  await new Promise((r) => setTimeout(r, 400));  // the progress bar's CSS transition
  const screenshot = path.join(artifactDir, "demo.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`# screenshot: ${screenshot}`);
  const logFile = path.join(artifactDir, "demo-log.txt");
  await writeFile(logFile, (await page.$$eval("#log li", (items) => items.map((li) => li.textContent))).join("\n") + "\n");
  console.log(`# the page's event log: ${logFile}`);

  // 6. Disconnect: DELETE for the session.
  const deletesBefore = proxy.requests.filter((r) => r.method === "DELETE").length;
  await page.click("#disconnect");
  await waitFor("disconnected", async () => (await page.$eval("#status", (el) => el.dataset.state)) === "disconnected", 5000)
    .catch(() => {});
  const deletes = proxy.requests.filter((r) => r.method === "DELETE");
  check(deletes.length === deletesBefore + 1 && deletes.at(-1).fields["mcp-session-id"] === sessionId,
        "Disconnect sends DELETE /mcp with the session id");

  // 7. Errors are shown as errors: Connect again, then the session is ended behind the
  //    page's back (DELETE straight to the server). Its GET stream ends, the resumption
  //    gets 404, and the page says the session is gone; Start then opens a new one.
  await page.click("#connect");
  await waitFor("connected again", async () => (await page.$eval("#status", (el) => el.dataset.state)) === "connected", 5000);
  const secondSession = await page.$eval("#session", (el) => el.textContent);
  const deleted = await fetch(new URL("/mcp", server), { method: "DELETE", headers: { "Mcp-Session-Id": secondSession } });
  check(deleted.status === 200 && secondSession !== sessionId, `a new session ${secondSession}, ended by a DELETE from the test`);
  const lostState = await waitFor("the page to notice", async () => {
    const st = await page.$eval("#status", (el) => ({ state: el.dataset.state, text: el.querySelector("#status-text").textContent }));
    return st.state === "disconnected" ? st : null;
  }, 10000).catch((e) => ({ state: e.message, text: "" }));
  const lostLog = await page.$$eval("#log li.error", (items) => items.map((li) => li.textContent).filter((t) => t.includes("404")));
  check(lostState.state === "disconnected" && /session ended by the server/.test(lostState.text) && lostLog.length > 0,
        `the page shows the ended session as an error ("${lostState.text}"; log: "${(lostLog.at(-1) || "").slice(13)}")`,
        `state ${lostState.state}`);
  await startRun(page, 50);
  s = await waitFor("the run on a new session", async () => {
    const t = await taskState(page);
    return t.state !== "running" ? t : null;
  });
  const thirdSession = await page.$eval("#session", (el) => el.textContent);
  check(s.state === "done" && thirdSession !== secondSession && thirdSession !== "-",
        `Start connects a new session (${thirdSession}) and the run completes`);
  check(pageErrors.length === 0, "no script errors on the page", ...pageErrors);

  // 8. The page served from another origin (http://localhost:P, by this script) with
  //    ?endpoint=: the server without CORS options refuses it (the page shows the error);
  //    the one with --cors-origin '*' (cors_origins) serves it, and its scripts read the
  //    exposed Mcp-Session-Id.
  const html = await (await fetch(new URL("/", corsServer))).text();
  const pageServer = http.createServer((req, res) => {
    res.writeHead(req.url.startsWith("/?") || req.url === "/" ? 200 : 404, { "Content-Type": "text/html; charset=utf-8" });
    res.end(req.url.startsWith("/?") || req.url === "/" ? html : "");
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  const otherOrigin = `http://localhost:${pageServer.address().port}`;
  try {
    const other = await browser.newPage();
    other.on("pageerror", (error) => pageErrors.push(error.message));
    await other.goto(`${otherOrigin}/?endpoint=${encodeURIComponent(`http://127.0.0.1:${proxy.port}/mcp`)}`);
    await other.click("#connect");
    const refused = await waitFor("the refused connection", async () => {
      const st = await other.$eval("#status", (el) => ({ state: el.dataset.state, text: el.querySelector("#status-text").textContent }));
      return st.state === "error" ? st : null;
    }, 5000).catch(() => null);
    const refusedText = refused ? refused.text.replace(/\s+/g, " ").trim() : "no error shown";
    check(refused !== null && /Failed to fetch/.test(refusedText),
          `from ${otherOrigin}, a server without CORS options is refused and the page shows the error ("${refusedText}")`);

    await other.goto(`${otherOrigin}/?endpoint=${encodeURIComponent(new URL("/mcp", corsServer).href)}`);
    await startRun(other, 100).catch(() => {});
    const run = await waitFor("the cross-origin run to end", async () => {
      const t = await taskState(other);
      return t.state !== "running" ? t : null;
    }, 10000).catch((e) => ({ state: e.message, steps: [] }));
    check(run.state === "done" && same(run.steps, expectedSteps(STEPS)),
          `from ${otherOrigin}, the server with --cors-origin '*' serves the page: connected, steps 1..${STEPS}, done`,
          `state ${run.state}, steps ${run.steps}, outcome ${run.outcome}`);
    const session = await other.$eval("#session", (el) => el.textContent);
    check(/^[\x21-\x7e]+$/.test(session), `cross-origin, the page read the exposed Mcp-Session-Id (${session})`);
    await other.close();
  } finally {
    pageServer.close();
  }
  check(pageErrors.length === 0, "no script errors on the cross-origin pages", ...pageErrors);
} catch (error) {
  check(false, "the browser run completes", error.stack || String(error));
} finally {
  await browser.close().catch(() => {});
  await proxy.close();
}
console.log(`client: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
