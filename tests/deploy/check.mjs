// Offline checks of deploy/: every kustomization renders (kubectl kustomize,
// current fields only) and validates against the Kubernetes, Gateway API and
// Traefik schemas; the rendered sets' cross-references hold; the services'
// settings (from their --help) are all provided, with values of the right
// grammar, in Kubernetes and in the compose file; what production asks of
// each set holds (NetworkPolicy flows, pods, Secrets, RabbitMQ 4.1,
// PostgreSQL, the edge); the RabbitMQ definitions match what the services
// declare; the Dockerfile and compose file parse and keep our rules.
// Self-tests break known-good inputs on purpose and require each break to be
// reported.
//   node check.mjs [platform-service-binary command-service-binary]
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

import { checkCompose } from "./lib/compose.mjs";
import { checkAll } from "./lib/crossref.mjs";
import { checkDockerfile, aptPackages } from "./lib/dockerfile.mjs";
import { render, validateAll } from "./lib/manifests.mjs";
import { defaultDenyProblems, flowProblems } from "./lib/network.mjs";
import { checkBrokerAccounts, checkDatabaseRoles, checkEdge, checkPods, checkPostgres, checkProductionSecrets,
  checkRabbitmq } from "./lib/production.mjs";
import { checkDefinitions, deadLetterNames, developmentDefinitions, UNROUTED } from "./lib/rabbitmq.mjs";
import { Report } from "./lib/report.mjs";
import { checkComposeSettings, checkDeploymentSettings, readHelp } from "./lib/settings.mjs";
import { runSelfTests } from "./selftest.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const at = (...p) => join(repo, ...p);
const kubectl = process.env.KUBECTL || "kubectl";

// What is rendered; `complete` sets hold everything their references need
// (but the operator's Secrets where `secrets` is "external"); `dev` sets
// carry the development Secrets (overlays/local only), `production` ones
// none and no development value.
const KUSTOMIZATIONS = [
  { dir: "deploy/k8s/base", complete: true, services: true, secrets: "external", production: true },
  { dir: "deploy/k8s/gateway", complete: false },
  { dir: "deploy/k8s/overlays/local", complete: true, services: true, edge: "gateway", secrets: "dev" },
  { dir: "deploy/k8s/overlays/prod", complete: true, services: true, edge: "gateway", secrets: "external", production: true },
  { dir: "deploy/k8s/overlays/ingress-nginx", complete: true, services: true, edge: "ingress", secrets: "external", production: true },
  { dir: "deploy/k8s/examples/static-pv", complete: true },
  { dir: "deploy/k8s/examples/cloudnative-pg", complete: true, services: true, edge: "gateway", secrets: "external",
    production: true, database: "operator" },
];

// The architecture's flows (deploy/k8s/README.md, "NetworkPolicies"): the
// edge to the services and the API-key check, the services to each other,
// to PostgreSQL and to the broker's AMQP port, broker to broker, and every
// pod to the cluster DNS. Nothing else, from anywhere.
const WORKLOADS = ["platforms-depl", "commands-depl", "postgres", "rabbitmq", "apikey-auth-depl"];
const EXPECTED_FLOWS = [
  "edge -> platforms-depl:http", "edge -> commands-depl:http", "edge -> apikey-auth-depl:http",
  "platforms-depl -> commands-depl:http", "commands-depl -> platforms-depl:grpc",
  "platforms-depl -> postgres:postgres", "commands-depl -> postgres:postgres",
  "platforms-depl -> rabbitmq:amqp", "commands-depl -> rabbitmq:amqp",
  "rabbitmq -> rabbitmq:epmd", "rabbitmq -> rabbitmq:cluster-rpc",
  ...WORKLOADS.flatMap((w) => [`${w} -> kube-dns:53/UDP`, `${w} -> kube-dns:53/TCP`]),
];
const EDGES = {
  gateway: { namespace: "traefik", labels: { "app.kubernetes.io/name": "traefik" } },
  ingress: { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } },
};
// Endpoints outside the set: the edge's pods, the cluster DNS, any other
// namespace's pod, an address outside the cluster.
function outside(edge, namespace, database) {
  const https = [{ number: 443, protocol: "TCP" }];
  // An operator's PostgreSQL pods are not in the set, but in its namespace.
  const operatorDatabase = database === "operator"
    ? [{ name: "postgres", namespace, labels: { "cnpg.io/cluster": "postgres" }, ports: [{ number: 5432, name: "postgres", protocol: "TCP" }] }]
    : [];
  return [
    ...operatorDatabase,
    { name: "edge", ...EDGES[edge ?? "gateway"] },
    { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" },
      ports: [{ number: 53, protocol: "UDP" }, { number: 53, protocol: "TCP" }] },
    { name: "other-namespace", namespace: "other", labels: {}, ports: https },
    { name: "internet", namespace: "", labels: {}, external: true, ports: https },
  ];
}

const namespaceOf = (docs) => docs.find((d) => d.kind === "Deployment")?.metadata?.namespace ?? "default";

// The Secrets production gets from its operator: deploy/k8s/README.md's
// "Secrets" table, first column.
function operatorSecrets() {
  const readme = readFileSync(at("deploy/k8s/README.md"), "utf8");
  const section = /^## Secrets\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? "";
  return [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
}

// Every value the development Secrets carry (literals, the API keys, the
// broker accounts' password hashes).
function developmentValues() {
  const dir = at("deploy/k8s/components/dev-secrets");
  const component = parseYaml(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
  const values = [];
  for (const g of component.secretGenerator ?? []) {
    for (const l of g.literals ?? []) values.push(l.slice(l.indexOf("=") + 1));
    for (const f of g.files ?? [])
      for (const m of readFileSync(join(dir, f.split("=").pop()), "utf8").matchAll(/"([^"]+)"/g)) values.push(m[1]);
  }
  const accounts = JSON.parse(readFileSync(at("deploy/rabbitmq/dev-accounts/accounts.json"), "utf8"));
  for (const u of accounts.users ?? []) values.push(u.password_hash);
  return values;
}

const SERVICES = [
  { binary: "platform-service", compose: "platform-service" },
  { binary: "command-service", compose: "command-service" },
];
const COMPOSE_SERVICES = ["postgres", "rabbitmq", "platform-service", "command-service", "gateway"];

// tests/run packages a build stage has no use for: servers, load and
// diagnostic tools that only tests run (promtool from prometheus), the
// fuzzers' compiler, and what the docs page and observer tests drive (tmux,
// headless Chromium, Python for both).
const NOT_FOR_BUILDING = new Set(["postgresql", "rabbitmq-server", "amqp-tools", "nginx", "wrk", "procps",
  "iproute2", "curl", "openssl", "jq", "clang-14", "libclang-rt-14-dev", "prometheus", "chromium", "tmux",
  "python3"]);

const find = (docs, kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
// A generated ConfigMap/Secret: kustomize appends a content hash to its name.
const generated = (docs, kind, name) =>
  docs.find((d) => d.kind === kind && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(d.metadata?.name ?? ""));

// The names CONTRACTS.md fixes, in every set that runs the services.
function contractProblems(docs, k) {
  const problems = [];
  const need = (kind, name, test = () => null) => {
    const d = find(docs, kind, name);
    const p = d ? test(d) : `${kind} ${name} is missing`;
    if (p) problems.push(p);
  };
  const ports = (...want) => (svc) => {
    const have = (svc.spec.ports ?? []).map((p) => p.port);
    const lacking = want.filter((p) => !have.includes(p));
    return lacking.length ? `Service ${svc.metadata.name} lacks port(s) ${lacking.join(", ")}` : null;
  };
  need("Deployment", "platforms-depl");
  need("Deployment", "commands-depl");
  need("Service", "platforms-clusterip-srv", ports(80, 666));
  need("Service", "platformnpservice-srv", (s) => (s.spec.type === "NodePort" ? null : "platformnpservice-srv is not a NodePort"));
  need("Service", "commands-clusterip-srv", ports(80));
  need("Service", "rabbitmq-clusterip-srv", ports(5672, 15672));
  if (k.database !== "operator")
    need("StatefulSet", "postgres", (s) =>
      s.spec.volumeClaimTemplates?.some((t) => t.spec?.storageClassName) ? null : "postgres has no volumeClaimTemplate on a named StorageClass");
  need("StatefulSet", "rabbitmq");
  need("HorizontalPodAutoscaler", "platforms-hpa");
  // The container port behind the Service's 666, by number or name.
  const grpc = find(docs, "Deployment", "platforms-depl")?.spec.template.spec.containers[0];
  const target = find(docs, "Service", "platforms-clusterip-srv")?.spec.ports.find((p) => p.port === 666)?.targetPort ?? 666;
  const port = (grpc?.ports ?? []).find((p) => p.name === target || p.containerPort === target);
  if (grpc && !["livenessProbe", "readinessProbe", "startupProbe"].some((p) =>
    [port?.containerPort, port?.name].includes(grpc[p]?.grpc?.port)))
    problems.push("platforms-depl has no gRPC probe on the port behind 666");
  if (k.edge === "gateway") {
    const routes = docs.filter((d) => d.kind === "HTTPRoute");
    const paths = routes.flatMap((r) => r.spec.rules.flatMap((rule) => rule.matches.map((m) => m.path?.value)));
    for (const p of ["/api/platforms", "/api/c/platforms", "/api/v1/platforms", "/api/v1/c/platforms"])
      if (!paths.includes(p)) problems.push(`no HTTPRoute matches ${p}`);
    if (!routes.every((r) => r.spec.hostnames?.includes("acme.com"))) problems.push("an HTTPRoute is not for host acme.com");
  }
  if (k.edge === "ingress") {
    need("Ingress", "ingress-srv", (i) => (i.spec.rules?.some((r) => r.host === "acme.com") ? null : "ingress-srv does not route host acme.com"));
  }
  return problems;
}

function configValue(docs, configMap, key) {
  return generated(docs, "ConfigMap", configMap)?.data?.[key];
}

// Users each service logs in as, and what they must be allowed to do. Both
// declare `trigger` with its alternate exchange and queue (declaring an
// exchange with an alternate takes read on it and write on the alternate;
// binding takes write on the queue and read on the exchange); the relay also
// binds and purges its own server-named queue (amq.gen-...) on the alternate.
function brokerUsers(platformUser, commandUser, queue, dead) {
  const tap = "amq.gen-JzTY20BRgKO-HjmUJj0wLg";
  return [
    { user: platformUser, needs: {
      configure: ["trigger", UNROUTED, tap],
      write: ["trigger", UNROUTED, tap],
      read: ["trigger", UNROUTED, tap] } },
    { user: commandUser, needs: {
      configure: ["trigger", UNROUTED, queue, dead.exchange, dead.queue],
      write: [UNROUTED, queue, dead.queue],
      read: ["trigger", UNROUTED, queue, dead.exchange] } },
  ];
}

function composeEnv(compose, service) {
  return compose.services?.[service]?.environment ?? {};
}

async function main() {
  const report = new Report();
  const [platformBinary, commandBinary] = process.argv.slice(2);

  // Settings from the binaries themselves.
  const help = {};
  for (const [svc, binary] of [[SERVICES[0], platformBinary], [SERVICES[1], commandBinary]]) {
    if (!binary) continue;
    await report.check(`${svc.binary} --help lists its settings`, () => {
      help[svc.binary] = readHelp(binary);
      return [];
    });
  }
  if (!platformBinary || !commandBinary)
    report.skip("settings against the binaries",
      "pass the platform-service and command-service binaries as arguments to check that every setting is provided");

  await report.check("kubectl brings kustomize v5 or later (current kustomization fields)", () => {
    const v = JSON.parse(execFileSync(kubectl, ["version", "--client", "-o", "json"], { encoding: "utf8" })).kustomizeVersion;
    return Number(/^v(\d+)/.exec(v ?? "")?.[1]) >= 5 ? [] : [`${kubectl} has kustomize ${v ?? "of unknown version"}`];
  });
  const rendered = {};
  const external = operatorSecrets();
  const devValues = developmentValues();
  for (const k of KUSTOMIZATIONS) {
    let warnings = [];
    await report.check(`render ${k.dir}`, () => {
      ({ docs: rendered[k.dir], warnings } = render(kubectl, at(k.dir)));
      return rendered[k.dir].length ? [] : ["renders nothing"];
    });
    const docs = rendered[k.dir];
    if (!docs) continue;
    await report.check(`current kustomize fields ${k.dir} (no deprecation warnings)`, () => warnings);
    await report.check(`schemas ${k.dir} (${docs.length} documents)`, () => validateAll(docs));
    if (!k.complete) continue;
    await report.check(`cross-references ${k.dir}`, () => checkAll(docs, { external: k.secrets === "external" ? external : [] }));
    if (!k.services) continue;
    await report.check(`contract names ${k.dir}`, () => contractProblems(docs, k));
    for (const svc of SERVICES)
      if (help[svc.binary])
        await report.check(`settings of ${svc.binary} in ${k.dir}`, () => checkDeploymentSettings(docs, svc.binary, help[svc.binary]));
    await report.check(`NetworkPolicies ${k.dir}: default deny, exactly the architecture's flows`, () =>
      [...defaultDenyProblems(docs), ...flowProblems(docs, outside(k.edge, namespaceOf(docs), k.database),
        EXPECTED_FLOWS.filter((f) => k.database !== "operator" || !f.startsWith("postgres ->")))]);
    await report.check(`pods ${k.dir}: labels, no API token, unprivileged ports, spread, actor threads`, () => checkPods(docs));
    await report.check(`secrets ${k.dir}: ${k.production ? "none rendered, no development value" : "broker accounts apart"}`, () =>
      [...checkBrokerAccounts(docs), ...(k.production ? checkProductionSecrets(docs, devValues, external) : [])]);
    await report.check(`RabbitMQ 4.1 ${k.dir}`, () => checkRabbitmq(docs));
    await report.check(`PostgreSQL ${k.dir}: connections, probes, each service's own role`, () =>
      [...checkPostgres(docs), ...checkDatabaseRoles(docs)]);
    if (k.edge) await report.check(`edge ${k.dir}: HTTPS${k.production ? " only" : ""}, auth URL in its namespace, client-keyed rate limit`,
      () => checkEdge(docs, { httpsOnly: k.production }));
  }

  // The compose file.
  let compose;
  await report.check("compose file parses with the expected services", () => {
    compose = parseYaml(readFileSync(at("deploy/docker/compose.yaml"), "utf8"));
    const problems = COMPOSE_SERVICES.filter((s) => !compose?.services?.[s]).map((s) => `no service ${s}`);
    for (const [name, svc] of Object.entries(compose?.services ?? {})) {
      const build = svc.build;
      if (build) {
        const context = resolve(at("deploy/docker"), build.context ?? ".");
        if (!existsSync(join(context, build.dockerfile ?? "Dockerfile"))) problems.push(`${name}: build dockerfile not found`);
      }
      for (const v of svc.volumes ?? []) {
        const source = String(v).split(":")[0];
        if (/^[.\/]/.test(source) && !existsSync(resolve(at("deploy/docker"), source)))
          problems.push(`${name}: volume source ${source} does not exist`);
      }
    }
    return problems;
  });
  if (compose) {
    await report.check("compose runs as an orchestrator would (own network, restarts, health, ports, durable store)", () =>
      checkCompose(compose));
    await report.check("compose gateway: the stack's nginx template has the addresses gateway-start.sh replaces", () => {
      const template = readFileSync(at("deploy/local/gateway/nginx.conf.in"), "utf8");
      return ["listen 127.0.0.1:", "server 127.0.0.1:@PLATFORM_HTTP_PORT@;", "server 127.0.0.1:@COMMAND_HTTP_PORT@;"]
        .filter((t) => !template.includes(t)).map((t) => `nginx.conf.in lacks '${t}'`);
    });
  }
  if (compose)
    for (const svc of SERVICES)
      if (help[svc.binary])
        await report.check(`compose names every setting of ${svc.binary}`, () => checkComposeSettings(compose, svc.compose, help[svc.binary]));

  // The Dockerfile.
  await report.check("Dockerfile parses; runtime stages are slim, non-root, with HEALTHCHECK", () => {
    const targets = Object.values(compose?.services ?? {}).map((s) => s.build?.target).filter(Boolean);
    const { problems, stages } = checkDockerfile(readFileSync(at("deploy/docker/Dockerfile"), "utf8"), { targets });
    const build = stages.find((s) => s.name === "build");
    if (!build) return [...problems, "no stage named build"];
    if (!/^debian:12(\b|-)/.test(build.base)) problems.push(`build stage is ${build.base}, not Debian 12`);
    const runScript = readFileSync(at("tests/run"), "utf8");
    const list = /packages=\(([\s\S]*?)\)/.exec(runScript)?.[1] ?? "";
    const wanted = list.split(/\s+/).filter((p) => p && !NOT_FOR_BUILDING.has(p));
    const installed = aptPackages(build);
    for (const p of wanted) if (!installed.has(p)) problems.push(`build stage lacks tests/run package ${p}`);
    return problems;
  });

  // The broker's definitions against the command service's queue and both users.
  const base = rendered["deploy/k8s/base"];
  if (base) {
    const definitions = developmentDefinitions(repo);
    const queue = configValue(base, "commands-config", "RabbitMQQueue");
    const queueSetting = help["command-service"]?.find((s) => s.name === "RabbitMQQueue");
    const dead = deadLetterNames(queueSetting, queue);
    await report.check("RabbitMQ definitions match the Kubernetes settings", () =>
      queue ? checkDefinitions(definitions, { queue, deadLetter: dead, users: brokerUsers(
        configValue(base, "platforms-config", "RabbitMQUser"), configValue(base, "commands-config", "RabbitMQUser"), queue, dead) })
        : ["commands-config has no RabbitMQQueue"]);
    if (compose)
      await report.check("RabbitMQ definitions match the compose settings", () => {
        const q = composeEnv(compose, "command-service").RabbitMQQueue;
        const problems = q === queue ? [] : [`compose RabbitMQQueue ${q} differs from Kubernetes' ${queue}`];
        return [...problems, ...checkDefinitions(definitions, { queue: q, deadLetter: deadLetterNames(queueSetting, q),
          users: brokerUsers(composeEnv(compose, "platform-service").RabbitMQUser, composeEnv(compose, "command-service").RabbitMQUser, q, deadLetterNames(queueSetting, q)) })];
      });
  }

  await runSelfTests(report, { rendered, compose, help, repo, kubectl,
    network: { outside, expected: EXPECTED_FLOWS }, secrets: { devValues, external } });

  console.log(report.summary());
  process.exitCode = report.failed ? 1 : 0;
}

await main();
