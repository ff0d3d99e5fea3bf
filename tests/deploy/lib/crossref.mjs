// Cross-reference checks over one rendered set of manifests: what a cluster
// would only show at run time (a Service routing to nothing, a probe on a
// path nobody serves, a Secret that is not there). Each returns problems.
import { describe } from "./manifests.mjs";

// Paths both services serve for probes (CONTRACTS / shared HTTP conventions).
export const SERVICE_PROBE_PATHS = ["/healthz", "/readyz"];
const SERVICE_IMAGES = /(^|\/)(platform-service|command-service)(:|@|$)/;

export const ofKind = (docs, kind) => docs.filter((d) => d.kind === kind);
const find = (docs, kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

export function workloads(docs) {
  return docs
    .filter((d) => WORKLOAD_KINDS.includes(d.kind))
    .map((d) => ({ doc: d, labels: d.spec?.template?.metadata?.labels ?? {}, pod: d.spec?.template?.spec ?? {} }));
}

function selects(selector, labels) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function matchLabelsOf(labelSelector) {
  return labelSelector?.matchLabels ?? {};
}

function declares(container, port) {
  return (container.ports ?? []).some((p) =>
    typeof port === "number" ? p.containerPort === port : p.name === port);
}

const containersOf = (pod) => pod.containers ?? [];

// A Service's selector must pick some workload's pods, and each targetPort
// (number or name) must be a port those pods' containers declare.
export function checkServices(docs) {
  const problems = [];
  for (const svc of ofKind(docs, "Service")) {
    if (svc.spec?.type === "ExternalName" || !svc.spec?.selector) continue;
    const selected = workloads(docs).filter((w) => selects(svc.spec.selector, w.labels));
    if (selected.length === 0) {
      problems.push(`${describe(svc)}: selector ${JSON.stringify(svc.spec.selector)} matches no workload's pod labels`);
      continue;
    }
    for (const port of svc.spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const ok = selected.every((w) => containersOf(w.pod).some((c) => declares(c, target)));
      if (!ok)
        problems.push(`${describe(svc)} port ${port.port}: targetPort ${JSON.stringify(target)} is not a port ` +
          `declared by the containers of ${selected.map((w) => describe(w.doc)).join(", ")}`);
    }
  }
  return problems;
}

function servicePortProblem(docs, where, name, port) {
  const svc = find(docs, "Service", name);
  if (!svc) return `${where}: backend Service ${name} does not exist`;
  const has = (svc.spec?.ports ?? []).some((p) =>
    typeof port === "number" ? p.port === port : p.name === port);
  return has ? null : `${where}: Service ${name} has no port ${JSON.stringify(port)}`;
}

// An in-cluster URL (http://name[.namespace.svc...][:port]/...) must name a Service port.
function serviceUrlProblem(docs, where, url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return `${where}: '${url}' is not a URL`;
  }
  // name, name.namespace, name.namespace.svc[.cluster.local]; anything else is outside.
  const m = /^([a-z0-9-]+)(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?$/.exec(u.hostname);
  if (!m) return null;
  const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  return servicePortProblem(docs, where, m[1], port);
}

export function checkIngresses(docs) {
  const problems = [];
  for (const ing of ofKind(docs, "Ingress")) {
    const backends = [];
    if (ing.spec?.defaultBackend?.service) backends.push(ing.spec.defaultBackend.service);
    for (const rule of ing.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? []) if (path.backend?.service) backends.push(path.backend.service);
    for (const b of backends) {
      const p = servicePortProblem(docs, describe(ing), b.name, b.port?.number ?? b.port?.name);
      if (p) problems.push(p);
    }
    const authUrl = ing.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-url"];
    if (authUrl) {
      const p = serviceUrlProblem(docs, `${describe(ing)} auth-url`, authUrl);
      if (p) problems.push(p);
    }
  }
  return problems;
}

// HTTPRoutes: parent Gateways, backend Services and their ports, and the
// Middlewares their ExtensionRef filters name; Middlewares' forwardAuth URLs.
export function checkRoutes(docs) {
  const problems = [];
  for (const route of ofKind(docs, "HTTPRoute")) {
    const where = describe(route);
    for (const parent of route.spec?.parentRefs ?? [])
      if ((parent.kind ?? "Gateway") === "Gateway" && !find(docs, "Gateway", parent.name))
        problems.push(`${where}: parent Gateway ${parent.name} does not exist`);
    for (const rule of route.spec?.rules ?? []) {
      for (const ref of rule.backendRefs ?? []) {
        if ((ref.kind ?? "Service") !== "Service") continue;
        if (ref.port === undefined) problems.push(`${where}: backendRef ${ref.name} has no port`);
        else {
          const p = servicePortProblem(docs, where, ref.name, ref.port);
          if (p) problems.push(p);
        }
      }
      for (const f of rule.filters ?? []) {
        if (f.type !== "ExtensionRef") continue;
        const { kind, name } = f.extensionRef;
        if (!find(docs, kind, name)) problems.push(`${where}: filter names ${kind} ${name}, which does not exist`);
      }
    }
  }
  for (const mw of ofKind(docs, "Middleware")) {
    const address = mw.spec?.forwardAuth?.address;
    if (address) {
      const p = serviceUrlProblem(docs, `${describe(mw)} forwardAuth`, address);
      if (p) problems.push(p);
    }
  }
  return problems;
}

// Paths a container serves: the services' probe paths, or the exact
// `location = /path` blocks of an nginx config mounted from a ConfigMap.
function servedPaths(docs, container, pod) {
  if (SERVICE_IMAGES.test(container.image ?? "")) return SERVICE_PROBE_PATHS;
  const paths = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
    const cm = volume?.configMap && find(docs, "ConfigMap", volume.configMap.name);
    for (const text of Object.values(cm?.data ?? {}))
      for (const m of String(text).matchAll(/location\s*=\s*(\/\S*)\s*\{/g)) paths.push(m[1]);
  }
  return paths;
}

export function checkProbes(docs) {
  const problems = [];
  for (const w of workloads(docs)) {
    for (const c of containersOf(w.pod)) {
      const where = `${describe(w.doc)} container ${c.name}`;
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const probe = c[kind];
        if (!probe) continue;
        const action = probe.httpGet ?? probe.grpc ?? probe.tcpSocket;
        if (action && !declares(c, action.port))
          problems.push(`${where} ${kind}: port ${JSON.stringify(action.port)} is not a declared container port`);
        if (probe.httpGet) {
          const served = servedPaths(docs, c, w.pod);
          if (!served.includes(probe.httpGet.path))
            problems.push(`${where} ${kind}: path ${probe.httpGet.path} is not one it serves (${served.join(", ") || "none known"})`);
        }
      }
    }
  }
  return problems;
}

function keysOf(doc) {
  return new Set([...Object.keys(doc?.data ?? {}), ...Object.keys(doc?.stringData ?? {}), ...Object.keys(doc?.binaryData ?? {})]);
}

// ConfigMaps, Secrets, keys, service accounts, governing services and
// StorageClasses that pods and StatefulSets refer to must be in the set.
// `external`: Secrets the operator creates, which the set refers to but
// does not hold.
export function checkReferences(docs, external = []) {
  const problems = [];
  const need = (where, kind, name, key, optional) => {
    if (optional || (kind === "Secret" && external.includes(name))) return;
    const doc = find(docs, kind, name);
    if (!doc) problems.push(`${where}: ${kind} ${name} does not exist`);
    else if (key !== undefined && !keysOf(doc).has(key)) problems.push(`${where}: ${kind} ${name} has no key ${key}`);
  };
  for (const w of workloads(docs)) {
    const where = describe(w.doc);
    for (const v of w.pod.volumes ?? []) {
      if (v.configMap) need(`${where} volume ${v.name}`, "ConfigMap", v.configMap.name, undefined, v.configMap.optional);
      if (v.secret) need(`${where} volume ${v.name}`, "Secret", v.secret.secretName, undefined, v.secret.optional);
      if (v.persistentVolumeClaim) need(`${where} volume ${v.name}`, "PersistentVolumeClaim", v.persistentVolumeClaim.claimName);
    }
    for (const c of [...containersOf(w.pod), ...(w.pod.initContainers ?? [])]) {
      const cw = `${where} container ${c.name}`;
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) need(cw, "ConfigMap", from.configMapRef.name, undefined, from.configMapRef.optional);
        if (from.secretRef) need(cw, "Secret", from.secretRef.name, undefined, from.secretRef.optional);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sec = e.valueFrom?.secretKeyRef;
        if (cm) need(`${cw} env ${e.name}`, "ConfigMap", cm.name, cm.key, cm.optional);
        if (sec) need(`${cw} env ${e.name}`, "Secret", sec.name, sec.key, sec.optional);
      }
      for (const m of c.volumeMounts ?? [])
        if (!(w.pod.volumes ?? []).some((v) => v.name === m.name) &&
            !(w.doc.spec?.volumeClaimTemplates ?? []).some((t) => t.metadata?.name === m.name))
          problems.push(`${cw}: volumeMount ${m.name} names no volume`);
    }
    if (w.pod.serviceAccountName && w.pod.serviceAccountName !== "default")
      need(where, "ServiceAccount", w.pod.serviceAccountName);
    if (w.doc.kind === "StatefulSet") {
      const svc = find(docs, "Service", w.doc.spec.serviceName);
      if (!svc) problems.push(`${where}: governing Service ${w.doc.spec.serviceName} does not exist`);
      else if (svc.spec?.clusterIP !== "None") problems.push(`${where}: governing Service ${svc.metadata.name} is not headless`);
      for (const t of w.doc.spec.volumeClaimTemplates ?? [])
        if (t.spec?.storageClassName) need(`${where} volumeClaimTemplate ${t.metadata?.name}`, "StorageClass", t.spec.storageClassName);
    }
  }
  return problems;
}

// HPAs scale something that exists; PDBs cover some workload's pods.
export function checkScaling(docs) {
  const problems = [];
  for (const hpa of ofKind(docs, "HorizontalPodAutoscaler")) {
    const { kind, name } = hpa.spec.scaleTargetRef;
    const target = find(docs, kind, name);
    if (!target) problems.push(`${describe(hpa)}: scale target ${kind} ${name} does not exist`);
    else if (target.spec?.template?.spec?.containers?.some((c) => !c.resources?.requests?.cpu) &&
             (hpa.spec.metrics ?? []).some((m) => m.resource?.name === "cpu"))
      problems.push(`${describe(hpa)}: scales on CPU but ${kind} ${name} has a container without a CPU request`);
  }
  for (const pdb of ofKind(docs, "PodDisruptionBudget"))
    if (!workloads(docs).some((w) => selects(matchLabelsOf(pdb.spec?.selector), w.labels)))
      problems.push(`${describe(pdb)}: selector matches no workload's pod labels`);
  for (const w of workloads(docs))
    if (w.doc.spec?.selector && !selects(matchLabelsOf(w.doc.spec.selector), w.labels))
      problems.push(`${describe(w.doc)}: selector does not match its own pod template labels`);
  return problems;
}

const UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
function bytes(quantity) {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(String(quantity));
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? UNITS[m[2]] : 1);
}

// A claim bound by name to a PersistentVolume: same class, enough room, the access modes.
export function checkVolumes(docs) {
  const problems = [];
  for (const pvc of ofKind(docs, "PersistentVolumeClaim")) {
    const where = describe(pvc);
    if (pvc.spec?.storageClassName && !find(docs, "StorageClass", pvc.spec.storageClassName) && !pvc.spec.volumeName)
      problems.push(`${where}: StorageClass ${pvc.spec.storageClassName} does not exist`);
    if (!pvc.spec?.volumeName) continue;
    const pv = find(docs, "PersistentVolume", pvc.spec.volumeName);
    if (!pv) {
      problems.push(`${where}: PersistentVolume ${pvc.spec.volumeName} does not exist`);
      continue;
    }
    if ((pv.spec?.storageClassName ?? "") !== (pvc.spec.storageClassName ?? ""))
      problems.push(`${where}: storageClassName '${pvc.spec.storageClassName ?? ""}' differs from ${describe(pv)}'s`);
    if (bytes(pv.spec?.capacity?.storage) < bytes(pvc.spec.resources?.requests?.storage))
      problems.push(`${where}: requests more than ${describe(pv)} holds`);
    for (const mode of pvc.spec.accessModes ?? [])
      if (!(pv.spec?.accessModes ?? []).includes(mode)) problems.push(`${where}: ${describe(pv)} lacks access mode ${mode}`);
  }
  return problems;
}

export function checkAll(docs, { external = [] } = {}) {
  return [
    ...checkServices(docs), ...checkIngresses(docs), ...checkRoutes(docs), ...checkProbes(docs),
    ...checkReferences(docs, external), ...checkScaling(docs), ...checkVolumes(docs),
  ];
}
