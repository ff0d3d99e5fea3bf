// The flows a rendered set's NetworkPolicies allow, worked out as a cluster
// would: a pod selected by a policy of a type (Ingress/Egress) is isolated
// for that direction and admits only what some rule of those policies names;
// a connection needs both the sender's egress and the receiver's ingress.
// Pods of the set are the workloads' templates (in their namespace); the
// endpoints outside it are given as peers with namespace and pod labels.
import { ofKind, workloads } from "./crossref.mjs";

// matchLabels and matchExpressions; an empty selector selects everything.
export function selectorMatches(selector, labels) {
  if (!selector) return false;
  const { matchLabels = {}, matchExpressions = [] } = selector;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return matchExpressions.every(({ key, operator, values = [] }) => {
    switch (operator) {
      case "In": return values.includes(labels[key]);
      case "NotIn": return !values.includes(labels[key]);
      case "Exists": return key in labels;
      case "DoesNotExist": return !(key in labels);
      default: return false;
    }
  });
}

const namespaceLabels = (ns) => ({ "kubernetes.io/metadata.name": ns });

// A peer of a rule against an endpoint {namespace, labels}, seen from a
// policy in namespace `ns`.
function peerMatches(peer, endpoint, ns) {
  if (peer.ipBlock) return endpoint.external === true;
  if (peer.namespaceSelector) {
    if (!selectorMatches(peer.namespaceSelector, namespaceLabels(endpoint.namespace))) return false;
    return peer.podSelector ? selectorMatches(peer.podSelector, endpoint.labels) : true;
  }
  return endpoint.namespace === ns && selectorMatches(peer.podSelector, endpoint.labels);
}

// A rule's ports against a port {number, name, protocol} of the receiver.
function portMatches(rulePorts, port) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => (p.protocol ?? "TCP") === port.protocol &&
    (p.port === undefined || p.port === port.number || p.port === port.name ||
     (typeof p.port === "number" && p.endPort !== undefined && port.number >= p.port && port.number <= p.endPort)));
}

const policiesOf = (docs) => ofKind(docs, "NetworkPolicy").map((p) => ({
  ns: p.metadata?.namespace ?? "default",
  spec: p.spec ?? {},
  types: p.spec?.policyTypes ?? (p.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"]),
}));

// direction "Ingress": does `pod` admit `peer` on its `port`?
// direction "Egress": may `pod` reach `peer` on the peer's `port`?
function admits(policies, direction, pod, peer, port) {
  const applying = policies.filter((p) => p.ns === pod.namespace && p.types.includes(direction) &&
    selectorMatches(p.spec.podSelector, pod.labels));
  if (applying.length === 0) return true;
  const key = direction === "Ingress" ? "ingress" : "egress";
  const side = direction === "Ingress" ? "from" : "to";
  return applying.some((p) => (p.spec[key] ?? []).some((rule) =>
    (rule[side] === undefined || rule[side].length === 0 || rule[side].some((peerSel) => peerMatches(peerSel, peer, p.ns))) &&
    portMatches(rule.ports, port)));
}

function portsOf(pod) {
  return (pod.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({
    number: p.containerPort, name: p.name, protocol: p.protocol ?? "TCP",
  })));
}

// The set's pods as endpoints.
export function podEndpoints(docs) {
  return workloads(docs).map((w) => ({
    name: w.doc.metadata.name,
    namespace: w.doc.metadata?.namespace ?? "default",
    labels: w.labels,
    ports: portsOf(w.pod),
  }));
}

const label = (port) => port.name ?? `${port.number}/${port.protocol}`;

// Every allowed flow as "source -> destination:port". `outside` are endpoints
// not in the set: {name, namespace, labels, ports?, external?}; they send to
// the set's pods, and the set's pods send to those with ports.
export function allowedFlows(docs, outside) {
  const policies = policiesOf(docs);
  const pods = podEndpoints(docs);
  const flows = new Set();
  for (const dst of pods)
    for (const port of dst.ports) {
      for (const src of pods)
        if (admits(policies, "Egress", src, dst, port) && admits(policies, "Ingress", dst, src, port))
          flows.add(`${src.name} -> ${dst.name}:${label(port)}`);
      for (const src of outside)
        if (admits(policies, "Ingress", dst, src, port)) flows.add(`${src.name} -> ${dst.name}:${label(port)}`);
    }
  for (const src of pods)
    for (const dst of outside)
      for (const port of dst.ports ?? [])
        if (admits(policies, "Egress", src, dst, port)) flows.add(`${src.name} -> ${dst.name}:${label(port)}`);
  return flows;
}

// A policy that isolates every pod in both directions and allows nothing.
export function defaultDenyProblems(docs) {
  const deny = ofKind(docs, "NetworkPolicy").find((p) =>
    selectorMatches(p.spec?.podSelector, {}) && Object.keys(p.spec.podSelector).length === 0 &&
    ["Ingress", "Egress"].every((t) => p.spec.policyTypes?.includes(t)) &&
    !(p.spec.ingress?.length) && !(p.spec.egress?.length));
  return deny ? [] : ["no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)"];
}

export function flowProblems(docs, outside, expected) {
  const have = allowedFlows(docs, outside);
  const want = new Set(expected);
  return [
    ...[...want].filter((f) => !have.has(f)).map((f) => `flow not allowed: ${f}`),
    ...[...have].filter((f) => !want.has(f)).map((f) => `flow allowed beyond the architecture: ${f}`),
  ];
}
