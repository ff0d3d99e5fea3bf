// Negative self-tests: each takes a known-good input (a rendered overlay, the
// compose file, the Dockerfile, the definitions), breaks one thing, and
// requires the checker to report exactly that kind of problem, which it must
// not report for the unbroken input. So every check here can fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { checkCompose } from "./lib/compose.mjs";
import { checkAll } from "./lib/crossref.mjs";
import { checkDockerfile } from "./lib/dockerfile.mjs";
import { render, validateAll } from "./lib/manifests.mjs";
import { defaultDenyProblems, flowProblems } from "./lib/network.mjs";
import { checkBrokerAccounts, checkDatabaseRoles, checkEdge, checkPods, checkPostgres, checkProductionSecrets,
  checkRabbitmq } from "./lib/production.mjs";
import { checkDefinitions, developmentDefinitions } from "./lib/rabbitmq.mjs";
import { checkComposeSettings, checkDeploymentSettings, parseHelp } from "./lib/settings.mjs";

// Stands in for --help when no binary is given: the same line format.
const SAMPLE_HELP = parseHelp([
  "  --ShutdownTimeout <duration>  time to finish in-flight work after SIGTERM",
  "      default: 10s, env: ShutdownTimeout",
  "  --HttpPort <integer 1..65535>  REST API listen port",
  "      default: 5000, env: HttpPort",
  "  --RabbitMQHost <text>  RabbitMQ host",
  "      default: localhost, env: RabbitMQHost",
  "  --RabbitMQDurableExchange <boolean>  declare trigger durable",
  "      default: true, env: RabbitMQDurableExchange",
  "  --GrpcCertificate <text>  PEM certificate file: enables TLS",
  "      default: none, env: GrpcCertificate",
  "  --ConnectionStrings__PlatformsConn <text>  PostgreSQL connection string",
  "      default: host=127.0.0.1 port=5432 dbname=platforms user=postgres connect_timeout=3, env: ConnectionStrings__PlatformsConn",
  "  --CommandService <text>  URL the platform is POSTed to after a create",
  "      default: http://localhost:6000/api/c/platforms, env: CommandService",
].join("\n"));
// The command service's CA setting, for the grammar of `system` or a file.
const CA_HELP = parseHelp([
  "  --GrpcPlatformCaFile <text>  roots for an https:// address: `system` (the system's trust store, as gRPC loads it) or a PEM file",
  "      default: system, env: GrpcPlatformCaFile",
].join("\n"));

// Renders a kustomization text over a ConfigMap and a patch of it; its warnings.
function kustomizeWarnings(kubectl, text) {
  const dir = mkdtempSync(join(tmpdir(), "deploy-selftest-"));
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n";
  try {
    writeFileSync(join(dir, "cm.yaml"), cm);
    writeFileSync(join(dir, "patch.yaml"), cm.replace('"1"', '"2"'));
    writeFileSync(join(dir, "kustomization.yaml"), text);
    return render(kubectl, dir).warnings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const clone = (x) => structuredClone(x);
const named = (docs, kind, name) => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`self-test input lacks ${kind} ${name}`);
  return d;
};
const configMap = (docs, deployment) =>
  named(docs, "ConfigMap", named(docs, "Deployment", deployment).spec.template.spec.containers[0].envFrom[0].configMapRef.name);

// Each case: which input, how to break it, what must then be reported.
function cases({ rendered, compose, help, repo, kubectl, network, secrets }) {
  const local = rendered["deploy/k8s/overlays/local"];
  const prod = rendered["deploy/k8s/overlays/prod"];
  const operator = rendered["deploy/k8s/examples/cloudnative-pg"];
  const ingress = rendered["deploy/k8s/overlays/ingress-nginx"];
  const platformHelp = help["platform-service"] ?? SAMPLE_HELP;
  const dockerfile = readFileSync(join(repo, "deploy/docker/Dockerfile"), "utf8");
  const definitions = developmentDefinitions(repo);
  const queue = "commands.platform-events";
  const broker = { queue, deadLetter: { exchange: `${queue}.dlx`, queue: `${queue}.dead` }, users: [] };
  const manifests = (docs) => ({ input: docs, check: (d) => checkAll(d) });
  const settings = (docs) => ({ input: docs, check: (d) => checkDeploymentSettings(d, "platform-service", platformHelp) });
  const flows = (docs) => ({ input: docs, check: (d) => [...defaultDenyProblems(d), ...flowProblems(d, network.outside("gateway", "acme"), network.expected)] });
  const pod = (docs, deployment) => named(docs, "Deployment", deployment).spec.template;
  const rabbit = (docs) => named(docs, "StatefulSet", "rabbitmq").spec.template.spec;
  const rabbitConfig = (docs) => docs.find((x) => x.kind === "ConfigMap" && /^rabbitmq-config/.test(x.metadata.name)).data;
  const postgres = (docs) => named(docs, "StatefulSet", "postgres").spec.template.spec.containers[0];
  const caFile = (c) => checkComposeSettings(c, "command-service", CA_HELP);
  return [
    { name: "a namespace without a default-deny NetworkPolicy", ...flows(prod),
      breakIt: (d) => d.filter((x) => !(x.kind === "NetworkPolicy" && x.metadata.name === "default-deny")),
      expect: /no default-deny NetworkPolicy/ },
    { name: "a pod outside the architecture reaching PostgreSQL", ...flows(prod),
      breakIt: (d) => { named(d, "NetworkPolicy", "postgres").spec.ingress[0].from.push({ namespaceSelector: {} }); },
      expect: /flow allowed beyond the architecture: other-namespace -> postgres:postgres/ },
    { name: "another namespace reaching the broker's distribution port", ...flows(prod),
      breakIt: (d) => { named(d, "NetworkPolicy", "rabbitmq").spec.ingress[1].from.push({ namespaceSelector: {} }); },
      expect: /flow allowed beyond the architecture: other-namespace -> rabbitmq:cluster-rpc/ },
    { name: "broker nodes that cannot reach each other", ...flows(prod),
      breakIt: (d) => { delete named(d, "NetworkPolicy", "rabbitmq").spec.egress; },
      expect: /flow not allowed: rabbitmq -> rabbitmq:epmd/ },
    { name: "a pod template without a recommended label", input: prod, check: checkPods,
      breakIt: (d) => { delete pod(d, "commands-depl").metadata.labels["app.kubernetes.io/component"]; },
      expect: /commands-depl: pod template lacks label app.kubernetes.io\/component/ },
    { name: "a version label that is not the image's tag", input: prod, check: checkPods,
      breakIt: (d) => { pod(d, "platforms-depl").metadata.labels["app.kubernetes.io/version"] = "0.9.0"; },
      expect: /platforms-depl: app.kubernetes.io\/version 0.9.0 is not its image's tag 1.0.0/ },
    { name: "a mounted service-account token", input: prod, check: checkPods,
      breakIt: (d) => { delete pod(d, "platforms-depl").spec.automountServiceAccountToken; },
      expect: /platforms-depl: mounts a service-account token/ },
    { name: "a privileged port through a sysctl", input: prod, check: checkPods,
      breakIt: (d) => {
        const p = pod(d, "commands-depl").spec;
        p.securityContext.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
        p.containers[0].ports[0].containerPort = 80;
      },
      expect: /commandservice: listens on privileged port 80/ },
    { name: "replicas without spread over nodes", input: prod, check: checkPods,
      breakIt: (d) => { delete pod(d, "commands-depl").spec.topologySpreadConstraints; },
      expect: /commands-depl: up to 12 replicas, but neither a topology spread/ },
    { name: "more actor threads than the CPU limit", input: prod, check: checkPods,
      breakIt: (d) => {
        const c = pod(d, "platforms-depl").spec.containers[0];
        c.env = c.env.filter((e) => e.name !== "ActorThreads").concat({ name: "ActorThreads", value: "4" });
      },
      expect: /ActorThreads=4 with a CPU limit of 2/ },
    { name: "a development Secret in production", input: prod, check: (d) => checkProductionSecrets(d, secrets.devValues, secrets.external),
      breakIt: (d) => { d.push(local.find((x) => x.kind === "Secret" && /^postgres-credentials/.test(x.metadata.name))); },
      expect: /carries the development value 'platforms-dev'/ },
    { name: "a production Secret the README does not list", input: prod, check: (d) => checkProductionSecrets(d, secrets.devValues, secrets.external),
      breakIt: (d) => { named(d, "StatefulSet", "rabbitmq").spec.template.spec.volumes.find((v) => v.name === "accounts").secret.secretName = "broker-users"; },
      expect: /references Secret broker-users, which the README's list of operator Secrets lacks/ },
    { name: "broker accounts in the topology ConfigMap", input: prod, check: checkBrokerAccounts,
      breakIt: (d) => {
        const cm = d.find((x) => x.kind === "ConfigMap" && /^rabbitmq-definitions/.test(x.metadata.name));
        cm.data["20-topology.json"] = JSON.stringify({ users: [{ name: "admin" }] });
      },
      expect: /rabbitmq-definitions 20-topology.json defines users \(admin\)/ },
    { name: "RabbitMQ 3.x discovery leftovers", input: prod, check: checkRabbitmq,
      breakIt: (d) => {
        rabbitConfig(d)["10-cluster.conf"] += "\ncluster_formation.k8s.host = kubernetes.default.svc.cluster.local\n";
        d.push({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "rabbitmq-peer-discovery" }, rules: [] });
      },
      expect: /3.x discovery settings that 4.1 ignores: cluster_formation.k8s.host/ },
    { name: "a relative memory watermark", input: prod, check: checkRabbitmq,
      breakIt: (d) => { rabbitConfig(d)["30-memory.conf"] = "vm_memory_high_watermark.relative = 0.6\n"; },
      expect: /memory watermark is relative/ },
    { name: "a memory watermark above the container's limit", input: local, check: checkRabbitmq,
      breakIt: (d) => { rabbitConfig(d)["30-memory.conf"] = "vm_memory_high_watermark.absolute = 2GiB\n"; },
      expect: /memory watermark 2GiB is not below the memory limit 1Gi/ },
    { name: "broker nodes allowed on one Kubernetes node", input: prod, check: checkRabbitmq,
      breakIt: (d) => { delete rabbit(d).affinity; },
      expect: /broker nodes may share a Kubernetes node/ },
    { name: "a broker budget that lets two nodes go", input: prod, check: checkRabbitmq,
      breakIt: (d) => { named(d, "PodDisruptionBudget", "rabbitmq-pdb").spec.maxUnavailable = 2; },
      expect: /PodDisruptionBudget is not maxUnavailable 1/ },
    { name: "max_connections below the pools at their HPA maxima", input: prod, check: checkPostgres,
      breakIt: (d) => { postgres(d).args = ["-c", "max_connections=100"]; },
      expect: /max_connections 100 < 13 command-service pods x 1 \+ 13 platform-service pods x 11 \+ 3 reserved = 159/ },
    { name: "an operator's PostgreSQL without replicas", input: operator, check: checkPostgres,
      breakIt: (d) => { named(d, "Cluster", "postgres").spec.instances = 1; },
      expect: /Cluster\/postgres: 1 instance\(s\), no failover/ },
    { name: "an operator's PostgreSQL without backups", input: operator, check: checkPostgres,
      breakIt: (d) => d.filter((x) => x.kind !== "ScheduledBackup"),
      expect: /Cluster\/postgres: no ScheduledBackup/ },
    { name: "a CloudNativePG Cluster without a field the checks rely on", input: operator, check: validateAll,
      breakIt: (d) => { delete named(d, "Cluster", "postgres").spec.instances; },
      expect: /Cluster\/postgres: lacks spec.instances/ },
    { name: "pg_isready as PostgreSQL's liveness", input: prod, check: checkPostgres,
      breakIt: (d) => { postgres(d).livenessProbe = postgres(d).readinessProbe; },
      expect: /liveness and readiness are the same probe/ },
    { name: "a service connecting as the superuser", input: prod, check: checkDatabaseRoles,
      breakIt: (d) => {
        const cm = d.find((x) => x.kind === "ConfigMap" && /^commands-config/.test(x.metadata.name));
        cm.data.ConnectionStrings__CommandsConn = "host=postgres-clusterip-srv dbname=commands user=postgres";
      },
      expect: /commands-depl: ConnectionStrings__CommandsConn connects as postgres to commands/ },
    { name: "a Gateway without HTTPS", input: prod, check: checkEdge,
      breakIt: (d) => { named(d, "Gateway", "acme-gateway").spec.listeners.splice(1, 1); },
      expect: /Gateway\/acme-gateway has no HTTPS listener/ },
    { name: "production's API over plain HTTP", input: prod, check: (d) => checkEdge(d, { httpsOnly: true }),
      breakIt: (d) => { delete named(d, "HTTPRoute", "platforms-route").spec.parentRefs[0].sectionName; },
      expect: /HTTPRoute\/platforms-route serves the API over plain HTTP/ },
    { name: "an Ingress without TLS", input: ingress, check: checkEdge,
      breakIt: (d) => { delete named(d, "Ingress", "ingress-srv-v1").spec.tls; },
      expect: /Ingress\/ingress-srv-v1 has no TLS for acme.com/ },
    { name: "an auth URL naming another namespace", input: prod, check: checkEdge,
      breakIt: (d) => { named(d, "Middleware", "api-key-auth").spec.forwardAuth.address = "http://apikey-auth-srv.default.svc.cluster.local:80/verify"; },
      expect: /auth URL .* names namespace default, the set deploys to acme/ },
    { name: "a rate limit keyed on the balancer's address", input: prod, check: checkEdge,
      breakIt: (d) => { delete named(d, "Middleware", "rate-limit").spec.rateLimit.sourceCriterion; },
      expect: /rate-limit: rate limit keyed on the remote address/ },
    { name: "a CA setting that is neither system nor a path", input: compose, check: caFile,
      breakIt: (c) => { c.services["command-service"].environment.GrpcPlatformCaFile = "ca.pem"; },
      expect: /GrpcPlatformCaFile='ca.pem' is neither `system` nor an absolute file path/ },
    { name: "a password in a connection string", input: compose,
      check: (c) => checkComposeSettings(c, "platform-service", platformHelp),
      breakIt: (c) => { c.services["platform-service"].environment.ConnectionStrings__PlatformsConn += " password=secret"; },
      expect: /ConnectionStrings__PlatformsConn=.* holds a password/ },
    { name: "a URL setting that is no URL", input: compose,
      check: (c) => checkComposeSettings(c, "platform-service", platformHelp),
      breakIt: (c) => { c.services["platform-service"].environment.CommandService = "command-service:6000"; },
      expect: /CommandService='command-service:6000' is not/ },
    { name: "compose on the host's network", input: compose, check: checkCompose,
      breakIt: (c) => { c.services.rabbitmq.network_mode = "host"; },
      expect: /rabbitmq: network_mode host/ },
    { name: "a compose service not restarted on failure", input: compose, check: checkCompose,
      breakIt: (c) => { delete c.services["command-service"].restart; },
      expect: /command-service: restart is unset, not on-failure/ },
    { name: "a host port Debian's PostgreSQL takes", input: compose, check: checkCompose,
      breakIt: (c) => { c.services.postgres.ports = ["5432:5432"]; },
      expect: /postgres: host port 5432 is where Debian's own server listens/ },
    { name: "a compose address that is no service name", input: compose, check: checkCompose,
      breakIt: (c) => { c.services["platform-service"].environment.RabbitMQHost = "127.0.0.1"; },
      expect: /platform-service: RabbitMQHost names 127.0.0.1, which is not a compose service/ },
    { name: "compose's command store in memory", input: compose, check: checkCompose,
      breakIt: (c) => { c.services["command-service"].environment.ConnectionStrings__CommandsConn = ":memory:"; },
      expect: /command-service stores in :memory:, not PostgreSQL/ },
    { name: "a deprecated kustomize field", input: "resources:\n- cm.yaml\npatches:\n- path: patch.yaml\n",
      check: (text) => kustomizeWarnings(kubectl, text),
      breakIt: () => "resources:\n- cm.yaml\npatchesStrategicMerge:\n- patch.yaml\n",
      expect: /'patchesStrategicMerge' is deprecated/ },
    { name: "a Service selector that matches no pods", ...manifests(local),
      breakIt: (d) => { named(d, "Service", "platforms-clusterip-srv").spec.selector = { app: "platformservicex" }; },
      expect: /platforms-clusterip-srv: selector .* matches no workload/ },
    { name: "a numeric targetPort no container declares", ...manifests(local),
      breakIt: (d) => { named(d, "Service", "commands-clusterip-srv").spec.ports[0].targetPort = 8080; },
      expect: /commands-clusterip-srv port 80: targetPort 8080 is not a port/ },
    { name: "a named targetPort no container declares", ...manifests(local),
      breakIt: (d) => { named(d, "Service", "platforms-clusterip-srv").spec.ports[1].targetPort = "grpc-web"; },
      expect: /platforms-clusterip-srv port 666: targetPort "grpc-web"/ },
    { name: "an HTTPRoute backend that names no Service", ...manifests(local),
      breakIt: (d) => { named(d, "HTTPRoute", "platforms-route").spec.rules[0].backendRefs[0].name = "platform-srv"; },
      expect: /HTTPRoute\/platforms-route: backend Service platform-srv does not exist/ },
    { name: "an HTTPRoute backend port the Service lacks", ...manifests(local),
      breakIt: (d) => { named(d, "HTTPRoute", "commands-route").spec.rules[0].backendRefs[0].port = 8080; },
      expect: /Service commands-clusterip-srv has no port 8080/ },
    { name: "an HTTPRoute filter naming a missing Middleware", ...manifests(local),
      breakIt: (d) => { named(d, "HTTPRoute", "commands-route").spec.rules[1].filters[1].extensionRef.name = "apikey"; },
      expect: /filter names Middleware apikey, which does not exist/ },
    { name: "an Ingress backend that names no Service", ...manifests(ingress),
      breakIt: (d) => { named(d, "Ingress", "ingress-srv").spec.rules[0].http.paths[1].backend.service.name = "commands-srv"; },
      expect: /Ingress\/ingress-srv: backend Service commands-srv does not exist/ },
    { name: "a probe path the service does not serve", ...manifests(local),
      breakIt: (d) => { named(d, "Deployment", "commands-depl").spec.template.spec.containers[0].readinessProbe.httpGet.path = "/health"; },
      expect: /commands-depl container commandservice readinessProbe: path \/health is not one it serves/ },
    { name: "a gRPC probe on an undeclared port", ...manifests(local),
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.containers[0].startupProbe.grpc.port = 6001; },
      expect: /startupProbe: port 6001 is not a declared container port/ },
    { name: "a Secret that is not there", ...manifests(local),
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.containers[0].env.find((e) => e.name === "RabbitMQPassword").valueFrom.secretKeyRef.name = "rabbitmq-creds"; },
      expect: /env RabbitMQPassword: Secret rabbitmq-creds does not exist/ },
    { name: "a PodDisruptionBudget covering nothing", ...manifests(local),
      breakIt: (d) => { named(d, "PodDisruptionBudget", "rabbitmq-pdb").spec.selector.matchLabels.app = "rabbit"; },
      expect: /PodDisruptionBudget\/rabbitmq-pdb: selector matches no workload/ },
    { name: "a setting the service reads that is not provided", ...settings(local),
      breakIt: (d) => { delete configMap(d, "platforms-depl").data.HttpPort; },
      expect: /setting HttpPort is not provided/ },
    { name: "a setting with a malformed value", ...settings(local),
      breakIt: (d) => { configMap(d, "platforms-depl").data.ShutdownTimeout = "ten seconds"; },
      expect: /ShutdownTimeout='ten seconds' is not a duration/ },
    { name: "a grace period shorter than the drain deadline", ...settings(local),
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.terminationGracePeriodSeconds = 12; },
      expect: /terminationGracePeriodSeconds 12 does not exceed preStop 5 s \+ ShutdownTimeout 10 s/ },
    { name: "a document that breaks its schema", input: local, check: validateAll,
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.containers[0].ports[0].containerPort = "80"; },
      expect: /Deployment\/platforms-depl: .*containerPort must be integer/ },
    { name: "a Traefik Middleware that breaks its schema", input: local, check: validateAll,
      breakIt: (d) => { named(d, "Middleware", "rate-limit").spec.rateLimit.average = "fifty"; },
      expect: /Middleware\/rate-limit: .*average must be integer/ },
    { name: "a kind no schema knows", input: local, check: validateAll,
      breakIt: (d) => { d.push({ apiVersion: "acme.com/v1", kind: "Gadget", metadata: { name: "g" } }); },
      expect: /Gadget\/g: unknown kind Gadget in acme.com\/v1/ },
    { name: "a compose service missing a setting", input: compose,
      check: (c) => checkComposeSettings(c, "platform-service", platformHelp),
      breakIt: (c) => { delete c.services["platform-service"].environment.HttpPort; },
      expect: /compose service platform-service: setting HttpPort is not provided/ },
    { name: "a runtime stage without USER", input: dockerfile, check: (t) => checkDockerfile(t).problems,
      breakIt: (t) => t.replace(/^USER .*\n/gm, ""), expect: /stage platform-service: no USER/ },
    { name: "a runtime stage without HEALTHCHECK", input: dockerfile, check: (t) => checkDockerfile(t).problems,
      breakIt: (t) => t.replace(/^HEALTHCHECK [^\n]*\\\n[^\n]*\n/gm, ""), expect: /stage command-service: no HEALTHCHECK/ },
    { name: "an unknown Dockerfile instruction", input: dockerfile, check: (t) => checkDockerfile(t).problems,
      breakIt: (t) => t.replace(/^WORKDIR /m, "WORKDRI "), expect: /unknown instruction WORKDRI/ },
    { name: "a queue not bound to trigger", input: definitions, check: (d) => checkDefinitions(d, broker),
      breakIt: (d) => { d.bindings = d.bindings.filter((b) => b.source !== "trigger"); },
      expect: /queue commands.platform-events is not bound to trigger/ },
    { name: "a dead-letter exchange the service does not declare", input: definitions, check: (d) => checkDefinitions(d, broker),
      breakIt: (d) => { d.queues[0].arguments["x-dead-letter-exchange"] = "trigger.dlx"; },
      expect: /x-dead-letter-exchange is trigger.dlx, the service declares commands.platform-events.dlx/ },
    { name: "trigger without its alternate exchange", input: definitions, check: (d) => checkDefinitions(d, broker),
      breakIt: (d) => { d.exchanges.find((x) => x.name === "trigger").arguments = {}; },
      expect: /exchange trigger has arguments \{\}, the services declare \{"alternate-exchange":"trigger.unrouted"\}/ },
    { name: "no queue keeping unrouted events", input: definitions, check: (d) => checkDefinitions(d, broker),
      breakIt: (d) => { d.queues = d.queues.filter((q) => q.name !== "trigger.unrouted"); },
      expect: /queue trigger.unrouted \(keeps unrouted events\) is not declared/ },
  ];
}

export async function runSelfTests(report, inputs) {
  let all;
  try {
    all = cases(inputs);
  } catch (e) {
    report.record("self-tests: inputs", [e.message]);
    return;
  }
  for (const c of all) {
    await report.check(`self-test: reports ${c.name}`, async () => {
      if (c.input === undefined) return ["its input did not load (see above)"];
      const before = (await c.check(clone(c.input))).filter((p) => c.expect.test(p));
      if (before.length) return [`already reported for the good input: ${before[0]}`];
      let broken = clone(c.input);
      broken = c.breakIt(broken) ?? broken;
      const after = await c.check(broken);
      return after.some((p) => c.expect.test(p))
        ? [] : [`not reported; expected ${c.expect}, got: ${after.join(" | ") || "nothing"}`];
    });
  }
}
