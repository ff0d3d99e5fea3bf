// Rendering with `kubectl kustomize` and schema validation with the
// kubernetes-models packages (Kubernetes, Gateway API, Traefik), offline.
import { spawnSync } from "node:child_process";
import { parseAllDocuments } from "yaml";

export function parseDocuments(text, origin) {
  const docs = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${origin}: YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

// The documents, and the warnings kustomize printed (deprecated fields).
export function render(kubectl, dir) {
  const r = spawnSync(kubectl, ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${(r.stderr || r.error?.message || "").trim()}`);
  const warnings = r.stderr.split("\n").filter((l) => /warning/i.test(l)).map((l) => l.replace(/^#\s*/, ""));
  return { docs: parseDocuments(r.stdout, dir), warnings };
}

// Where each API group's models live; core (v1) is "kubernetes-models/v1".
const packages = [
  { groups: /^gateway\.networking\.(x-)?k8s\.io$/, module: "@kubernetes-models/gateway-api" },
  { groups: /^traefik\.(io|containo\.us)$/, module: "@kubernetes-models/traefik" },
  { groups: /.*/, module: "kubernetes-models" },
];

async function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = packages.find((p) => p.groups.test(group));
  const path = group ? `${pkg.module}/${group}/${version}` : `${pkg.module}/${version}`;
  let mod;
  try {
    mod = await import(path);
  } catch {
    return null;
  }
  return mod[kind] ?? null;
}

export function describe(doc) {
  return `${doc?.kind ?? "?"}/${doc?.metadata?.name ?? "?"}`;
}

// kustomize wraps long base64 values over lines; the API server's decoder
// skips the line breaks, the schema's "byte" format does not.
function secretDataUnwrapped(doc) {
  if (doc.kind !== "Secret" || !doc.data) return doc;
  const data = Object.fromEntries(Object.entries(doc.data).map(([k, v]) => [k, String(v).replace(/\s+/g, "")]));
  return { ...doc, data };
}

// Kinds with no schema package offline (CloudNativePG publishes none on npm):
// the fields each must have, checked by hand.
const WITHOUT_SCHEMA = {
  "postgresql.cnpg.io/v1": {
    Cluster: ["spec.instances", "spec.storage.size"],
    Database: ["spec.name", "spec.owner", "spec.cluster.name"],
    ScheduledBackup: ["spec.schedule", "spec.cluster.name"],
  },
};

const at = (doc, path) => path.split(".").reduce((v, k) => v?.[k], doc);

// Problems of one document: unknown apiVersion/kind, or schema errors.
export async function validateDocument(doc) {
  if (!doc || typeof doc !== "object" || !doc.apiVersion || !doc.kind)
    return [`${describe(doc)}: no apiVersion/kind`];
  const fields = WITHOUT_SCHEMA[doc.apiVersion]?.[doc.kind];
  if (fields) return fields.filter((f) => at(doc, f) === undefined).map((f) => `${describe(doc)}: lacks ${f}`);
  const Model = await modelClass(doc.apiVersion, doc.kind);
  if (!Model) return [`${describe(doc)}: unknown kind ${doc.kind} in ${doc.apiVersion}`];
  try {
    new Model(secretDataUnwrapped(doc)).validate();
    return [];
  } catch (e) {
    return [`${describe(doc)}: ${e.message}`];
  }
}

export async function validateAll(docs) {
  const problems = [];
  for (const doc of docs) problems.push(...(await validateDocument(doc)));
  return problems;
}
