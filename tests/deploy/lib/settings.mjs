// The settings each service reads, from its own `--help`, and whether a
// Deployment (env, envFrom ConfigMaps/Secrets) or the compose file provides
// every one of them with a value of the right form.
import { execFileSync } from "node:child_process";
import { describe } from "./manifests.mjs";
import { workloads } from "./crossref.mjs";

// Two lines per setting:
//   "  --Name <type>   help text"
//   "                  default: value, env: Name"
export function parseHelp(text) {
  const settings = [];
  let last = null;
  for (const line of text.split("\n")) {
    const m = /^ {2}--(\S+) <([^>]*)> +(.*)$/.exec(line);
    if (m) last = { name: m[1], type: m[2], help: m[3] };
    const d = /^ {4,}default: (.*), env: (\S+)$/.exec(line);
    if (d && last && d[2] === last.name) settings.push({ ...last, fallback: d[1] });
  }
  if (settings.length === 0) throw new Error("no settings found in --help output");
  return settings;
}

export function readHelp(binary) {
  return parseHelp(execFileSync(binary, ["--help"], { encoding: "utf8", timeout: 10_000 }));
}

// Settings without a default ("none") switch a feature on by being set
// (e.g. GrpcCertificate); all others must be given explicitly.
export const required = (settings) => settings.filter((s) => s.fallback !== "none");

// The form a value must have, judged from the default's form.
const FORMS = [
  { fallback: /^\d+(ms|s|m|h)$/, value: /^\d{1,12}(ms|s|m|h)?$/, what: "a duration (e.g. 250ms, 2s)" },
  { fallback: /^-?\d+$/, value: /^-?\d+$/, what: "an integer" },
  { fallback: /^(true|false)$/, value: /^(true|false|1|0|yes|no|on|off)$/i, what: "a boolean" },
];

// libpq's connection keywords (PostgreSQL 15, "Parameter Key Words").
const LIBPQ_KEYWORDS = new Set(["host", "hostaddr", "port", "dbname", "user", "password", "passfile",
  "channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
  "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
  "tcp_user_timeout", "replication", "gssencmode", "sslmode", "requiressl", "sslcompression", "sslcert",
  "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
  "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib", "service",
  "target_session_attrs"]);

function libpqProblem(value) {
  const pairs = value.trim().split(/\s+/);
  for (const p of pairs) {
    const m = /^([a-z_]+)=(\S+)$/.exec(p);
    if (!m) return `'${p}' is not keyword=value`;
    if (!LIBPQ_KEYWORDS.has(m[1])) return `'${m[1]}' is not a libpq keyword`;
    if (m[1] === "password") return "holds a password (give it as PGPASSWORD from a Secret)";
  }
  return pairs.some((p) => p.startsWith("host=")) ? null : "names no host";
}

// Grammars by the setting's kind (its name, default or help text), beyond
// the FORMS above; each returns what is wrong, or null.
const GRAMMARS = [
  { applies: (s) => s.name.startsWith("ConnectionStrings__"),
    // The command service's SQLite forms, where its help offers them.
    problem: (s, v) => (v === ":memory:" && s.help.includes('":memory:"')) ||
      (v.startsWith("sqlite:") && s.help.includes("sqlite:<file>")) ? null : libpqProblem(v) },
  { applies: (s) => /^https?:\/\//.test(s.fallback),
    problem: (s, v) => {
      if (s.help.includes("host:port") && /^[A-Za-z0-9.-]+:\d+$/.test(v)) return null;
      try {
        const u = new URL(v);
        return ["http:", "https:"].includes(u.protocol) && u.hostname ? null : "is not an http(s) URL with a host";
      } catch {
        return "is not a URL";
      }
    } },
  { applies: (s) => /`system`/.test(s.help),
    problem: (s, v) => (v === "system" || v.startsWith("/") ? null : "is neither `system` nor an absolute file path") },
  { applies: (s) => /Host$/.test(s.name),
    problem: (s, v) => (/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(v) ? null : "is not a host name") },
];

export function valueProblem(setting, value) {
  if (value === null) return null; // from a Secret or the downward API: not visible here
  if (value === "") return `${setting.name} is empty`;
  const form = FORMS.find((f) => f.fallback.test(setting.fallback));
  if (form && !form.value.test(value)) return `${setting.name}='${value}' is not ${form.what}`;
  for (const g of GRAMMARS) {
    const p = g.applies(setting) ? g.problem(setting, value) : null;
    if (p) return `${setting.name}='${value}' ${p}`;
  }
  return null;
}

export function durationMs(text) {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text ?? "");
  if (!m) return NaN;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"];
}

// The container that runs a binary: its image is named after it.
export function serviceContainer(docs, binaryName) {
  const image = new RegExp(`(^|/)${binaryName}(:|@|$)`);
  for (const w of workloads(docs))
    for (const c of w.pod.containers ?? []) if (image.test(c.image ?? "")) return { workload: w, container: c };
  return null;
}

// name -> value (null when it comes from a Secret or fieldRef).
export function providedSettings(docs, container) {
  const values = new Map();
  const source = (kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const doc = source(from.configMapRef ? "ConfigMap" : "Secret", ref.name);
    const keys = Object.keys({ ...doc?.data, ...doc?.stringData });
    for (const key of keys) values.set((from.prefix ?? "") + key, from.configMapRef ? String(doc.data[key]) : null);
  }
  for (const e of container.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef;
    values.set(e.name, "value" in e ? String(e.value) : cm ? String(source("ConfigMap", cm.name)?.data?.[cm.key]) : null);
  }
  return values;
}

export function missingOrMalformed(settings, values, where) {
  const problems = [];
  for (const s of required(settings)) {
    if (!values.has(s.name)) problems.push(`${where}: setting ${s.name} is not provided`);
    else {
      const p = valueProblem(s, values.get(s.name));
      if (p) problems.push(`${where}: ${p}`);
    }
  }
  return problems;
}

function preStopSleepSeconds(container) {
  const cmd = container.lifecycle?.preStop?.exec?.command ?? [];
  return cmd[0] === "sleep" ? Number(cmd[1]) || 0 : container.lifecycle?.preStop?.sleep?.seconds ?? 0;
}

// Every setting provided, well-formed, and the pod given longer to stop than
// preStop plus the service's own drain deadline.
export function checkDeploymentSettings(docs, binaryName, settings) {
  const found = serviceContainer(docs, binaryName);
  if (!found) return [`no workload runs ${binaryName} (no container image named after it)`];
  const { workload, container } = found;
  const where = `${describe(workload.doc)} container ${container.name}`;
  const values = providedSettings(docs, container);
  const problems = missingOrMalformed(settings, values, where);
  const shutdown = settings.find((s) => s.name === "ShutdownTimeout");
  if (shutdown) {
    const drainMs = durationMs(values.get("ShutdownTimeout") ?? shutdown.fallback);
    const graceS = workload.pod.terminationGracePeriodSeconds ?? 30;
    const neededS = preStopSleepSeconds(container) + drainMs / 1000;
    if (!(graceS > neededS))
      problems.push(`${describe(workload.doc)}: terminationGracePeriodSeconds ${graceS} does not exceed ` +
        `preStop ${preStopSleepSeconds(container)} s + ShutdownTimeout ${drainMs / 1000} s`);
  }
  return problems;
}

export function checkComposeSettings(compose, serviceName, settings) {
  const svc = compose.services?.[serviceName];
  if (!svc) return [`compose: no service ${serviceName}`];
  let env = svc.environment ?? {};
  if (Array.isArray(env))
    env = Object.fromEntries(env.map((kv) => [kv.split("=")[0], kv.includes("=") ? kv.slice(kv.indexOf("=") + 1) : null]));
  const values = new Map(Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v)]));
  return missingOrMalformed(settings, values, `compose service ${serviceName}`);
}
