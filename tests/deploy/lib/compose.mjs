// The compose file as an orchestrator runs it: a bridge network of its own
// with service names for addresses, restarts on failure (the services exit 1
// on purpose when their root supervisor gives up), health checks, host ports
// clear of Debian's own servers, the command service's store durable.

// Ports Debian's postgresql and rabbitmq-server packages listen on.
export const DEBIAN_SERVER_PORTS = [5432, 5672, 15672, 25672, 4369];

function hostPorts(svc) {
  return (svc.ports ?? []).map((p) => {
    if (typeof p === "object") return Number(p.published);
    const parts = String(p).split(":");
    return parts.length >= 2 ? Number(parts[parts.length - 2]) : NaN; // [ip:]host:container
  }).filter((n) => !Number.isNaN(n));
}

const hostOf = (url) => {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
};

// The addresses a service's settings name: each must be a compose service.
function addressesOf(env) {
  const out = [];
  if (env.RabbitMQHost) out.push(["RabbitMQHost", env.RabbitMQHost]);
  for (const [k, v] of Object.entries(env))
    if (k.startsWith("ConnectionStrings__")) {
      const host = /\bhost=(\S+)/.exec(String(v))?.[1];
      if (host) out.push([k, host]);
    }
  for (const k of ["CommandService", "GrpcPlatform"]) if (env[k]) out.push([k, hostOf(env[k])]);
  for (const k of ["PLATFORM_HOST", "COMMAND_HOST"]) if (env[k]) out.push([k, env[k]]);
  return out;
}

export function checkCompose(compose) {
  const problems = [];
  const names = Object.keys(compose.services ?? {});
  const networks = compose.networks ?? {};
  for (const [name, svc] of Object.entries(compose.services ?? {})) {
    if (svc.network_mode) problems.push(`${name}: network_mode ${svc.network_mode} (use the compose network and service names)`);
    const on = Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {});
    if (!on.length) problems.push(`${name}: on no network of the file's own`);
    for (const n of on)
      if (!(n in networks)) problems.push(`${name}: network ${n} is not declared`);
      else if ((networks[n]?.driver ?? "bridge") !== "bridge") problems.push(`network ${n} is not a bridge`);
    if (!/^on-failure(:\d+)?$/.test(svc.restart ?? "")) problems.push(`${name}: restart is ${svc.restart ?? "unset"}, not on-failure`);
    if (!svc.healthcheck && !svc.build?.target) problems.push(`${name}: no healthcheck`);
    for (const port of hostPorts(svc))
      if (DEBIAN_SERVER_PORTS.includes(port)) problems.push(`${name}: host port ${port} is where Debian's own server listens`);
    for (const [setting, host] of addressesOf(svc.environment ?? {}))
      if (!names.includes(host)) problems.push(`${name}: ${setting} names ${host}, which is not a compose service`);
  }
  const commands = compose.services?.["command-service"]?.environment?.ConnectionStrings__CommandsConn ?? "";
  if (!/\bhost=/.test(commands)) problems.push(`command-service stores in ${commands || "memory"}, not PostgreSQL: commands would not survive a restart`);
  const pg = compose.services?.postgres;
  if (!(pg?.volumes ?? []).some((v) => /roles\.sh:\/docker-entrypoint-initdb\.d\//.test(String(v))))
    problems.push("postgres does not run deploy/postgres/roles.sh at initdb (each service's own role and database)");
  return problems;
}
