// Negative self-tests: each takes a known-good input (a rendered overlay, the
// compose file, the Dockerfile, the definitions), breaks one thing, and
// requires the checker to report exactly that kind of problem, which it must
// not report for the unbroken input. So every check here can fail.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { checkAll } from "./lib/crossref.mjs";
import { checkDockerfile } from "./lib/dockerfile.mjs";
import { validateAll } from "./lib/manifests.mjs";
import { checkDefinitions } from "./lib/rabbitmq.mjs";
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
].join("\n"));

const clone = (x) => structuredClone(x);
const named = (docs, kind, name) => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`self-test input lacks ${kind} ${name}`);
  return d;
};
const configMap = (docs, deployment) =>
  named(docs, "ConfigMap", named(docs, "Deployment", deployment).spec.template.spec.containers[0].envFrom[0].configMapRef.name);

// Each case: which input, how to break it, what must then be reported.
function cases({ rendered, compose, help, repo }) {
  const local = rendered["deploy/k8s/overlays/local"];
  const ingress = rendered["deploy/k8s/overlays/ingress-nginx"];
  const platformHelp = help["platform-service"] ?? SAMPLE_HELP;
  const dockerfile = readFileSync(join(repo, "deploy/docker/Dockerfile"), "utf8");
  const definitions = JSON.parse(readFileSync(join(repo, "deploy/rabbitmq/definitions.json"), "utf8"));
  const queue = "commands.platform-events";
  const broker = { queue, deadLetter: { exchange: `${queue}.dlx`, queue: `${queue}.dead` }, users: [] };
  const manifests = (docs) => ({ input: docs, check: (d) => checkAll(d) });
  const settings = (docs) => ({ input: docs, check: (d) => checkDeploymentSettings(d, "platform-service", platformHelp) });
  return [
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
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.containers[0].startupProbe.grpc.port = 5001; },
      expect: /startupProbe: port 5001 is not a declared container port/ },
    { name: "a Secret that is not there", ...manifests(local),
      breakIt: (d) => { named(d, "Deployment", "platforms-depl").spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name = "rabbitmq-creds"; },
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
