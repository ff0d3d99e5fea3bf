// Negative self-tests of validate.mjs: a response as the services send it
// passes; each broken copy must fail with the expected complaint. So every
// check of the contract test can fail.
//   node selftest.mjs <openapi.yaml>...
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const documents = process.argv.slice(2);
const validate = join(dirname(fileURLToPath(import.meta.url)), "validate.mjs");
const dir = mkdtempSync(join(tmpdir(), "contract-selftest-"));

const headers = {
  "Content-Type": "application/json; charset=utf-8",
  "X-Request-Id": "self-1",
  traceresponse: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
};
const platform = { id: 7, name: "Docker", publisher: "Docker", cost: "Free" };
const good = { method: "GET", path: "/api/platforms/7", status: 200, headers, body: JSON.stringify(platform) };
const created = { ...good, method: "POST", path: "/api/platforms", status: 201,
  headers: { ...headers, Location: "/api/platforms/7" } };
const problem = { ...good, status: 404,
  headers: { ...headers, "Content-Type": "application/problem+json" },
  body: JSON.stringify({ type: "https://tools.ietf.org/html/rfc7231#section-6.5.4", title: "Not Found",
    status: 404, detail: "Platform 7 is unknown.", traceId: "self-1" }) };
const without = (o, key) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

const cases = [
  { name: "a good platform, a 201 and a problem", lines: [good, created, problem], expect: null },
  { name: "a platform without cost", lines: [{ ...good, body: JSON.stringify(without(platform, "cost")) }],
    expect: /body breaks the schema: .*cost/ },
  { name: "an unknown property in a platform", lines: [{ ...good, body: JSON.stringify({ ...platform, x: 1 }) }],
    expect: /body breaks the schema/ },
  { name: "a blank name", lines: [{ ...good, body: JSON.stringify({ ...platform, name: " \u00a0" }) }],
    expect: /body breaks the schema/ },
  { name: "no X-Request-Id", lines: [{ ...good, headers: without(headers, "X-Request-Id") }],
    expect: /header X-Request-Id missing/ },
  { name: "a malformed traceresponse", lines: [{ ...good, headers: { ...headers, traceresponse: "00-x" } }],
    expect: /header traceresponse: '00-x' breaks its schema/ },
  { name: "a 201 without Location", lines: [{ ...created, headers }], expect: /header Location missing/ },
  { name: "an undocumented status", lines: [{ ...good, status: 302 }], expect: /status not documented/ },
  { name: "a route the documents lack", lines: [{ ...good, path: "/api/secret" }],
    expect: /a route served but not in the documents/ },
  { name: "a problem as text/html", lines: [{ ...problem, headers: { ...problem.headers, "Content-Type": "text/html" } }],
    expect: /Content-Type 'text\/html' is not one of application\/problem\+json/ },
  { name: "a problem without traceId", lines: [{ ...problem, body: JSON.stringify({ type: "x", title: "t", status: 404 }) }],
    expect: /body breaks the schema: .*traceId/ },
];

let failed = 0;
cases.forEach((c, i) => {
  const file = join(dir, `${i}.jsonl`);
  writeFileSync(file, c.lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  let out = "";
  let ok = true;
  try {
    out = execFileSync("node", [validate, "--no-coverage", ...documents, "--", file], { encoding: "utf8" });
  } catch (e) {
    ok = false;
    out = e.stdout;
  }
  const right = c.expect ? !ok && c.expect.test(out) : ok;
  console.log(`${right ? "ok  " : "FAIL"}  ${c.name}${right ? "" : `\n${out}`}`);
  if (!right) failed++;
});
rmSync(dir, { recursive: true });
console.log(`selftest: ${cases.length} cases, ${failed} failed`);
process.exit(failed ? 1 : 0);
