// What production asks of a rendered set beyond its schemas and references:
// pods (labels, tokens, ports, spread, actor threads), secrets, the RabbitMQ
// 4.1 cluster, PostgreSQL's connections and probes, the edge. Each check
// returns problems.
import { describe } from "./manifests.mjs";
import { ofKind, workloads } from "./crossref.mjs";
import { selectorMatches } from "./network.mjs";
import { providedSettings } from "./settings.mjs";

const SERVICE_IMAGES = /(^|\/)(platform-service|command-service)(:|@|$)/;
export const PART_OF = "acme-platforms";
export const RECOMMENDED_LABELS = ["name", "instance", "component", "part-of", "version"]
  .map((k) => `app.kubernetes.io/${k}`);

const find = (docs, kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
const generated = (docs, kind, name) =>
  docs.find((d) => d.kind === kind && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(d.metadata?.name ?? ""));

const UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
export function quantityBytes(q) {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(String(q ?? ""));
  return m ? Number(m[1]) * (m[2] ? UNITS[m[2]] : 1) : NaN;
}
export function cpus(q) {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(q ?? ""));
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
}
// RabbitMQ's information units (rabbit_resource_monitor_misc): kB, MB, GB
// are powers of 1000; K, KiB, MiB, GiB (any case) powers of 1024.
export function rabbitBytes(text) {
  const m = /^(\d+)([A-Za-z]*)$/.exec(String(text ?? "").trim());
  if (!m) return NaN;
  if (m[2] === "") return Number(m[1]);
  const power = { k: 1, m: 2, g: 3 }[m[2][0].toLowerCase()];
  const decimal = /^[kmg]b$/i.test(m[2]);
  const binary = /^[kmg](ib)?$/i.test(m[2]);
  if (!power || !(decimal || binary)) return NaN;
  return Number(m[1]) * (decimal ? 1000 : 1024) ** power;
}

const hpaFor = (docs, w) => ofKind(docs, "HorizontalPodAutoscaler").find((h) =>
  h.spec?.scaleTargetRef?.kind === w.doc.kind && h.spec?.scaleTargetRef?.name === w.doc.metadata.name);

export function maxReplicas(docs, w) {
  return Math.max(w.doc.spec?.replicas ?? 1, hpaFor(docs, w)?.spec?.maxReplicas ?? 0);
}

// Pods a rolling update adds above the replica count (maxSurge, default 25%).
export function surge(w, replicas) {
  const s = w.doc.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%";
  return typeof s === "number" ? s : Math.ceil((replicas * parseInt(s, 10)) / 100);
}

function spreadsOverNodes(w) {
  const spread = (w.pod.topologySpreadConstraints ?? []).some((t) =>
    t.topologyKey === "kubernetes.io/hostname" && t.whenUnsatisfiable === "DoNotSchedule" &&
    selectorMatches(t.labelSelector, w.labels));
  const apart = (w.pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some((t) =>
    t.topologyKey === "kubernetes.io/hostname" && selectorMatches(t.labelSelector, w.labels));
  return spread || apart;
}

const imageTag = (image) => /:([^:@/]+)(@.*)?$/.exec(image ?? "")?.[1];

// ActorThreads from the container's CPU limit (downward API, whole CPUs), or
// given outright when there is no CPU limit.
function actorThreadProblems(docs, where, c) {
  const limit = c.resources?.limits?.cpu;
  const field = (c.env ?? []).find((e) => e.name === "ActorThreads")?.valueFrom?.resourceFieldRef;
  if (field) {
    if (field.resource !== "limits.cpu" || (field.containerName && field.containerName !== c.name) ||
        String(field.divisor ?? "1") !== "1")
      return [`${where}: ActorThreads must come from its own limits.cpu with divisor 1`];
    return limit ? [] : [`${where}: ActorThreads comes from a CPU limit the container does not have`];
  }
  if (!limit) return [];
  const value = providedSettings(docs, c).get("ActorThreads");
  return Number(value) === Math.ceil(cpus(limit)) ? []
    : [`${where}: ActorThreads=${value ?? "unset (default 4)"} with a CPU limit of ${limit}`];
}

export function checkPods(docs) {
  const problems = [];
  for (const w of workloads(docs)) {
    const where = describe(w.doc);
    for (const l of RECOMMENDED_LABELS)
      if (!w.labels[l]) problems.push(`${where}: pod template lacks label ${l}`);
    if (w.labels["app.kubernetes.io/part-of"] && w.labels["app.kubernetes.io/part-of"] !== PART_OF)
      problems.push(`${where}: app.kubernetes.io/part-of is not ${PART_OF}`);
    if (w.pod.automountServiceAccountToken !== false)
      problems.push(`${where}: mounts a service-account token although nothing in it calls the Kubernetes API`);
    if ((w.pod.securityContext?.sysctls ?? []).length)
      problems.push(`${where}: sets sysctls (${w.pod.securityContext.sysctls.map((s) => s.name).join(", ")}); map ports with targetPort instead`);
    for (const c of w.pod.containers ?? []) {
      const cw = `${where} container ${c.name}`;
      for (const p of c.ports ?? [])
        if (p.containerPort < 1024) problems.push(`${cw}: listens on privileged port ${p.containerPort}`);
      if (SERVICE_IMAGES.test(c.image ?? "")) {
        if (w.labels["app.kubernetes.io/version"] !== imageTag(c.image))
          problems.push(`${where}: app.kubernetes.io/version ${w.labels["app.kubernetes.io/version"]} is not its image's tag ${imageTag(c.image)}`);
        problems.push(...actorThreadProblems(docs, cw, c));
      }
    }
    const replicas = maxReplicas(docs, w);
    if (replicas > 1 && !spreadsOverNodes(w))
      problems.push(`${where}: up to ${replicas} replicas, but neither a topology spread over kubernetes.io/hostname (DoNotSchedule) nor a required pod anti-affinity`);
  }
  return problems;
}

// Values the development Secrets carry; none may appear in a production render.
export function renderedText(docs) {
  return docs.map((d) => {
    const decoded = d.kind === "Secret"
      ? Object.values(d.data ?? {}).map((v) => Buffer.from(String(v).replace(/\s+/g, ""), "base64").toString("utf8"))
      : [];
    return JSON.stringify(d) + decoded.join("\n");
  }).join("\n");
}

export function checkProductionSecrets(docs, devValues, external) {
  const problems = [];
  for (const s of ofKind(docs, "Secret"))
    problems.push(`${describe(s)} is rendered: production Secrets are created by the operator, not kept in the repository`);
  const text = renderedText(docs);
  for (const v of devValues) if (text.includes(v)) problems.push(`carries the development value '${v}'`);
  const referenced = secretReferences(docs);
  for (const name of referenced)
    if (!external.includes(name)) problems.push(`references Secret ${name}, which the README's list of operator Secrets lacks`);
  return problems;
}

// Names of Secrets the set's pods and Gateways refer to.
export function secretReferences(docs) {
  const names = new Set();
  for (const w of workloads(docs)) {
    for (const v of w.pod.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
    for (const c of [...(w.pod.containers ?? []), ...(w.pod.initContainers ?? [])]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
      for (const f of c.envFrom ?? []) if (f.secretRef) names.add(f.secretRef.name);
    }
  }
  for (const c of ofKind(docs, "Cluster")) {
    const refs = [c.spec?.bootstrap?.initdb?.secret, ...(c.spec?.managed?.roles ?? []).map((r) => r.passwordSecret),
      ...Object.values(c.spec?.backup?.barmanObjectStore?.s3Credentials ?? {})];
    for (const r of refs) if (r?.name) names.add(r.name);
  }
  for (const g of ofKind(docs, "Gateway"))
    for (const l of g.spec?.listeners ?? [])
      for (const r of l.tls?.certificateRefs ?? []) if ((r.kind ?? "Secret") === "Secret") names.add(r.name);
  for (const i of ofKind(docs, "Ingress")) for (const t of i.spec?.tls ?? []) if (t.secretName) names.add(t.secretName);
  return [...names];
}

// The broker's topology ConfigMap holds no account: accounts are a Secret.
export function checkBrokerAccounts(docs) {
  const problems = [];
  const topology = generated(docs, "ConfigMap", "rabbitmq-definitions");
  for (const [key, text] of Object.entries(topology?.data ?? {})) {
    const users = JSON.parse(text).users ?? [];
    if (users.length) problems.push(`ConfigMap rabbitmq-definitions ${key} defines users (${users.map((u) => u.name).join(", ")}): accounts belong in Secret rabbitmq-accounts`);
  }
  const rabbit = find(docs, "StatefulSet", "rabbitmq");
  if (rabbit && !(rabbit.spec.template.spec.volumes ?? []).some((v) => /^rabbitmq-accounts(-[a-z0-9]{10})?$/.test(v.secret?.secretName ?? "")))
    problems.push("StatefulSet/rabbitmq does not load its accounts from Secret rabbitmq-accounts");
  return problems;
}

// conf.d files in the order RabbitMQ reads them (by name): later lines win.
function rabbitSetting(docs, key) {
  const cm = generated(docs, "ConfigMap", "rabbitmq-config");
  const files = Object.keys(cm?.data ?? {}).sort();
  let value;
  for (const f of files)
    for (const line of String(cm.data[f]).split("\n")) {
      const m = /^\s*([^#=\s]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m && m[1] === key) value = m[2];
    }
  return value;
}

const rabbitKeys = (docs) => {
  const cm = generated(docs, "ConfigMap", "rabbitmq-config");
  return Object.values(cm?.data ?? {}).flatMap((t) => String(t).split("\n"))
    .map((l) => /^\s*([^#=\s]+)\s*=/.exec(l)?.[1]).filter(Boolean);
};

// RabbitMQ 4.1 as its documentation describes it on Kubernetes.
export function checkRabbitmq(docs) {
  const problems = [];
  const sts = find(docs, "StatefulSet", "rabbitmq");
  if (!sts) return ["StatefulSet rabbitmq is missing"];
  const pod = sts.spec.template.spec;
  const c = pod.containers.find((x) => x.name === "rabbitmq");
  if (!/^rabbitmq:4\.1([.-]|$)/.test(c?.image ?? "")) problems.push(`rabbitmq runs ${c?.image}, not RabbitMQ 4.1`);
  const backend = rabbitSetting(docs, "cluster_formation.peer_discovery_backend");
  if (!["k8s", "rabbit_peer_discovery_k8s"].includes(backend)) problems.push(`peer discovery backend is ${backend ?? "unset"}, not k8s`);
  const leftovers = rabbitKeys(docs).filter((k) => k.startsWith("cluster_formation.k8s.") &&
    !["cluster_formation.k8s.ordinal_start", "cluster_formation.k8s.seed_node"].includes(k));
  if (leftovers.length) problems.push(`3.x discovery settings that 4.1 ignores: ${leftovers.join(", ")}`);
  for (const kind of ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ServiceAccount"])
    for (const d of ofKind(docs, kind)) problems.push(`${describe(d)}: 4.1's discovery calls no Kubernetes API (3.x leftover)`);
  const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
  for (const k of ["K8S_SERVICE_NAME", "K8S_HOSTNAME_SUFFIX"]) if (k in env) problems.push(`env ${k} is a 3.x leftover`);
  if (env.RABBITMQ_USE_LONGNAME !== "true" || !String(env.RABBITMQ_NODENAME ?? "").includes(`$(MY_POD_NAME).${sts.spec.serviceName}.`))
    problems.push("node names are not the pods' stable DNS names (RABBITMQ_USE_LONGNAME, RABBITMQ_NODENAME rabbit@<pod>.<service>...): the seed -0 cannot be found");
  if (rabbitSetting(docs, "vm_memory_high_watermark.relative") !== undefined)
    problems.push("memory watermark is relative: in a container set vm_memory_high_watermark.absolute");
  const watermark = rabbitBytes(rabbitSetting(docs, "vm_memory_high_watermark.absolute"));
  const limit = quantityBytes(c?.resources?.limits?.memory);
  if (Number.isNaN(watermark)) problems.push("no absolute memory watermark (vm_memory_high_watermark.absolute)");
  else if (!(watermark < limit))
    problems.push(`memory watermark ${rabbitSetting(docs, "vm_memory_high_watermark.absolute")} is not below the memory limit ${c?.resources?.limits?.memory}`);
  if (rabbitSetting(docs, "default_queue_type") !== "quorum") problems.push("default_queue_type is not quorum");
  const pdb = ofKind(docs, "PodDisruptionBudget").find((p) => selectorMatches(p.spec?.selector, sts.spec.template.metadata.labels));
  if (!pdb || pdb.spec.maxUnavailable !== 1) problems.push("the broker's PodDisruptionBudget is not maxUnavailable 1");
  const apart = (pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some((t) =>
    t.topologyKey === "kubernetes.io/hostname" && selectorMatches(t.labelSelector, sts.spec.template.metadata.labels));
  if (!apart) problems.push("broker nodes may share a Kubernetes node (no required anti-affinity on kubernetes.io/hostname)");
  return problems;
}

// libpq keyword=value pairs.
export function libpqPairs(text) {
  return Object.fromEntries(String(text ?? "").trim().split(/\s+/).map((kv) => kv.split("=")));
}

// Sessions one pod of each service holds at most: the platform's repository
// pool plus its outbox relay, its outbox listener and the migrations at start;
// the command service's one repository session.
const SESSIONS = {
  "platform-service": (values) => Number(values.get("DatabasePoolSize") ?? 4) + 3,
  "command-service": (values) => (/\bhost=/.test(values.get("ConnectionStrings__CommandsConn") ?? "") ? 1 : 0),
};
const RESERVED = 3; // superuser_reserved_connections

// Sessions the services may hold at once, and the sum as words.
function connectionNeed(docs) {
  let need = RESERVED;
  const terms = [];
  for (const w of workloads(docs)) {
    const sc = (w.pod.containers ?? []).find((x) => SERVICE_IMAGES.test(x.image ?? ""));
    if (!sc) continue;
    const binary = SERVICE_IMAGES.exec(sc.image)[2];
    const pods = maxReplicas(docs, w) + surge(w, maxReplicas(docs, w));
    const each = SESSIONS[binary](providedSettings(docs, sc));
    need += pods * each;
    terms.push(`${pods} ${binary} pods x ${each}`);
  }
  return { need, sum: `${terms.join(" + ")} + ${RESERVED} reserved = ${need}` };
}

function maxConnectionsProblems(docs, max) {
  const { need, sum } = connectionNeed(docs);
  if (!max) return ["PostgreSQL sets no max_connections"];
  return need > max ? [`max_connections ${max} < ${sum}`] : [];
}

// The StatefulSet: connections, probes, the roles script at initdb.
function statefulSetProblems(docs, sts) {
  const problems = [];
  const pod = sts.spec.template.spec;
  const c = pod.containers.find((x) => x.name === "postgres");
  problems.push(...maxConnectionsProblems(docs, Number(/max_connections=(\d+)/.exec((c.args ?? []).join(" "))?.[1])));
  const liveness = c.livenessProbe;
  const readiness = c.readinessProbe;
  if (!liveness || !readiness) problems.push("postgres lacks a liveness or a readiness probe");
  else {
    if (JSON.stringify(liveness) === JSON.stringify(readiness)) problems.push("postgres's liveness and readiness are the same probe");
    if (liveness.exec?.command?.[0] === "pg_isready")
      problems.push("postgres's liveness is pg_isready: a server that is busy or recovering would be restarted");
  }
  const init = (c.volumeMounts ?? []).find((m) => m.mountPath === "/docker-entrypoint-initdb.d");
  const volume = init && (pod.volumes ?? []).find((v) => v.name === init.name);
  const script = volume?.configMap && Object.values(generated(docs, "ConfigMap", volume.configMap.name)?.data ?? {}).join("\n");
  if (!script || !/own_database platforms platforms/.test(script) || !/own_database commands commands/.test(script))
    problems.push("postgres does not run deploy/postgres/roles.sh at initdb (each service's own role and database)");
  return problems;
}

// A CloudNativePG Cluster: connections, replicas, backups, the same roles.
function operatorClusterProblems(docs, cluster) {
  const problems = maxConnectionsProblems(docs, Number(cluster.spec.postgresql?.parameters?.max_connections));
  if (!(cluster.spec.instances >= 3)) problems.push(`Cluster/${cluster.metadata.name}: ${cluster.spec.instances} instance(s), no failover`);
  if (!cluster.spec.backup?.barmanObjectStore) problems.push(`Cluster/${cluster.metadata.name}: no backup store`);
  if (!ofKind(docs, "ScheduledBackup").some((b) => b.spec.cluster.name === cluster.metadata.name))
    problems.push(`Cluster/${cluster.metadata.name}: no ScheduledBackup`);
  const initdb = cluster.spec.bootstrap?.initdb;
  if (initdb?.database !== "platforms" || initdb?.owner !== "platforms")
    problems.push(`Cluster/${cluster.metadata.name}: bootstrap does not make database platforms owned by platforms`);
  const role = (cluster.spec.managed?.roles ?? []).find((r) => r.name === "commands");
  if (!role?.login || role.superuser || role.createdb || role.createrole)
    problems.push(`Cluster/${cluster.metadata.name}: no login role commands without superuser, createdb, createrole`);
  if (!ofKind(docs, "Database").some((d) => d.spec.name === "commands" && d.spec.owner === "commands"))
    problems.push("no Database commands owned by role commands");
  return problems;
}

export function checkPostgres(docs) {
  const sts = find(docs, "StatefulSet", "postgres");
  const cluster = ofKind(docs, "Cluster").find((c) => c.apiVersion.startsWith("postgresql.cnpg.io/"));
  if (sts) return statefulSetProblems(docs, sts);
  if (cluster) return operatorClusterProblems(docs, cluster);
  return ["neither StatefulSet postgres nor a CloudNativePG Cluster"];
}

// Each service connects as its own role to its own database (not as a superuser).
export function checkDatabaseRoles(docs) {
  const problems = [];
  const wanted = { "platform-service": ["ConnectionStrings__PlatformsConn", "platforms"],
                   "command-service": ["ConnectionStrings__CommandsConn", "commands"] };
  for (const w of workloads(docs))
    for (const c of w.pod.containers ?? []) {
      const binary = SERVICE_IMAGES.exec(c.image ?? "")?.[2];
      if (!binary) continue;
      const [setting, role] = wanted[binary];
      const pairs = libpqPairs(providedSettings(docs, c).get(setting));
      if (pairs.user !== role || pairs.dbname !== role)
        problems.push(`${describe(w.doc)}: ${setting} connects as ${pairs.user ?? "?"} to ${pairs.dbname ?? "?"}, not as role ${role} to database ${role}`);
    }
  return problems;
}

// A route with backends attached to a plain HTTP listener (no sectionName:
// to every listener of its Gateway).
function plainHttpRoutes(docs) {
  const plain = (ref) => {
    const listeners = find(docs, "Gateway", ref.name)?.spec?.listeners ?? [];
    return listeners.some((l) => l.protocol === "HTTP" && (!ref.sectionName || ref.sectionName === l.name));
  };
  return ofKind(docs, "HTTPRoute").filter((r) => (r.spec?.rules ?? []).some((rule) => (rule.backendRefs ?? []).length) &&
    (r.spec?.parentRefs ?? []).some(plain));
}

// HTTPS at the Gateway (and, with httpsOnly, plain HTTP only redirecting),
// the auth URL in the set's own namespace, and the rate limit keyed on the
// client the balancer forwards.
export function checkEdge(docs, { httpsOnly = false } = {}) {
  const problems = [];
  for (const g of ofKind(docs, "Gateway"))
    if (!(g.spec?.listeners ?? []).some((l) => l.protocol === "HTTPS" && (l.tls?.certificateRefs ?? []).length))
      problems.push(`${describe(g)} has no HTTPS listener with a certificate`);
  for (const i of ofKind(docs, "Ingress"))
    if (!(i.spec?.tls ?? []).some((t) => t.secretName && (t.hosts ?? []).includes("acme.com")))
      problems.push(`${describe(i)} has no TLS for acme.com`);
  if (httpsOnly)
    for (const r of plainHttpRoutes(docs)) problems.push(`${describe(r)} serves the API over plain HTTP`);
  const urls = [
    ...ofKind(docs, "Middleware").filter((m) => m.spec?.forwardAuth).map((m) => [m, m.spec.forwardAuth.address]),
    ...ofKind(docs, "Ingress").filter((i) => i.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-url"])
      .map((i) => [i, i.metadata.annotations["nginx.ingress.kubernetes.io/auth-url"]]),
  ];
  for (const [doc, url] of urls) {
    const ns = doc.metadata?.namespace;
    const host = new URL(url).hostname.split(".");
    if (!ns) problems.push(`${describe(doc)} has no namespace: the overlay must set one for the auth URL`);
    else if (host[1] !== ns) problems.push(`${describe(doc)}: auth URL ${url} names namespace ${host[1]}, the set deploys to ${ns}`);
  }
  for (const m of ofKind(docs, "Middleware").filter((x) => x.spec?.rateLimit)) {
    const source = m.spec.rateLimit.sourceCriterion;
    if (!(source?.ipStrategy?.depth >= 1 || source?.requestHeaderName))
      problems.push(`${describe(m)}: rate limit keyed on the remote address (behind a balancer: the balancer's)`);
  }
  return problems;
}
