// Checks recorded responses against the OpenAPI documents: each response's
// status is documented for its operation, its required headers are there
// and well-formed, and its body matches the documented media type and
// schema. Every documented operation must have been answered at least once.
//   node validate.mjs [--no-coverage] <openapi.yaml>... -- <responses.jsonl>...
// Prints what failed and a summary; exits 1 on any failure. --no-coverage
// skips the every-operation-answered check (selftest.mjs's small inputs).
import { readFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const cut = process.argv.indexOf("--");
const coverage = process.argv[2] !== "--no-coverage";
const documentFiles = process.argv.slice(coverage ? 2 : 3, cut);
const responseFiles = process.argv.slice(cut + 1);

// A document with every $ref replaced by what it names (files relative to
// the one holding the $ref). The documents have no cycles.
const files = new Map();
function load(file) {
  if (!files.has(file)) files.set(file, YAML.parse(readFileSync(file, "utf8")));
  return files.get(file);
}
function pointer(doc, fragment) {
  return fragment.split("/").slice(1).reduce((node, key) => {
    const k = key.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node == null || !(k in node)) throw new Error(`unresolved $ref fragment ${fragment}`);
    return node[k];
  }, doc);
}
function deref(node, file) {
  if (Array.isArray(node)) return node.map((x) => deref(x, file));
  if (node === null || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    const [path, fragment = ""] = node.$ref.split("#");
    const target = path ? resolve(dirname(file), path) : file;
    return deref(pointer(load(target), fragment), target);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(v, file)]));
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(schema));
  return compiled.get(key);
}

// Operations of every document: method, path template, its matcher.
const operations = [];
for (const file of documentFiles) {
  const doc = deref(load(resolve(file)), resolve(file));
  for (const [template, item] of Object.entries(doc.paths)) {
    const pattern = new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$");
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      if (item[method]) operations.push({ file, template, method, pattern, op: item[method], seen: 0 });
    }
  }
}
const anyProblem = operations.flatMap((o) => Object.values(o.op.responses))
  .map((r) => r.content?.["application/problem+json"]?.schema).find(Boolean);

const failures = [];
let checked = 0;
let outside = 0;
const fail = (r, what) => failures.push(`${r.method} ${r.path} ${r.status}: ${what}`);
const header = (r, name) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const mediaType = (r) => (header(r, "Content-Type") ?? "").split(";")[0].trim().toLowerCase();

function checkBody(r, schema) {
  if (r.body === undefined || schema === undefined) return; // too large to record, or free-form
  let value = r.body;
  if (/json$/.test(mediaType(r))) {
    try {
      value = JSON.parse(r.body);
    } catch {
      return fail(r, `body is not JSON: ${r.body.slice(0, 80)}`);
    }
  }
  const validate = validator(schema);
  if (!validate(value))
    fail(r, `body breaks the schema: ${ajv.errorsText(validate.errors)}; body ${r.body.slice(0, 200)}`);
}

function checkAgainst(r, response) {
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const value = header(r, name);
    if (value === undefined) {
      if (h.required) fail(r, `header ${name} missing`);
    } else if (h.schema && !validator(h.schema)(value)) {
      fail(r, `header ${name}: '${value}' breaks its schema`);
    }
  }
  if (!response.content) return;
  const type = mediaType(r);
  const media = response.content[type];
  if (!media) {
    if (r.method === "HEAD") return;
    return fail(r, `Content-Type '${type}' is not one of ${Object.keys(response.content).join(", ")}`);
  }
  if (r.method !== "HEAD") checkBody(r, media.schema);
}

function check(r) {
  const path = r.path.split("?")[0].replace(/(.)\/$/, "$1");
  const method = r.method === "HEAD" ? "get" : r.method.toLowerCase();
  const matches = operations.filter((o) => o.pattern.test(path));
  const o = matches.find((x) => x.method === method);
  if (!o) {
    // Outside the contract (an unknown route or method): an answer that is
    // not an error means a route the documents lack; an error is a problem.
    outside++;
    if (r.status < 400) return fail(r, "a route served but not in the documents");
    if (anyProblem) {
      if (mediaType(r) !== "application/problem+json") fail(r, `not a problem: ${mediaType(r)}`);
      else checkBody(r, anyProblem);
    }
    return;
  }
  checked++;
  o.seen++;
  const s = String(r.status);
  const response = o.op.responses[s] ?? o.op.responses[`${s[0]}XX`] ?? o.op.responses.default;
  if (!response) return fail(r, `status not documented for ${o.method.toUpperCase()} ${o.template}`);
  checkAgainst(r, response);
}

let lines = 0;
for (const file of responseFiles) {
  if (!existsSync(file)) {
    failures.push(`${file}: no responses recorded (did its integration test run?)`);
    continue;
  }
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    lines++;
    check(JSON.parse(line));
  }
}
// An operation both documents hold (the operational routes) counts once.
const seen = new Set(operations.filter((o) => o.seen).map((o) => `${o.method} ${o.template}`));
for (const o of operations)
  if (coverage && !seen.has(`${o.method} ${o.template}`) && lines)
    failures.push(`${o.method.toUpperCase()} ${o.template} (${o.file}): no test received an answer`);

const shown = [...new Set(failures)];
for (const f of shown.slice(0, 60)) console.log(`FAIL ${f}`);
if (shown.length > 60) console.log(`... and ${shown.length - 60} more`);
console.log(`${lines} responses: ${checked} checked against ${operations.length} operations, ` +
  `${outside} outside the contract (checked as problems); ${failures.length} failures`);
process.exit(failures.length || !lines ? 1 : 0);
