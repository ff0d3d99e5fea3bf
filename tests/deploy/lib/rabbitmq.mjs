// The broker's definitions file against what the services declare and how
// they log in: the durable fanout exchange `trigger` with the alternate
// exchange `trigger.unrouted` (fanout, durable, into the durable queue of the
// same name) exactly as services/shared/amqp/src/topology.cpp declares it
// (RabbitMQ refuses a redeclaration whose alternate-exchange differs), the
// command service's queue (its RabbitMQQueue value) bound to `trigger`,
// dead-lettering to <queue>.dlx and <queue>.dead as the service declares
// them, and a user with permissions for every RabbitMQUser a deployment or
// the compose file names.

import { readFileSync } from "node:fs";
import { join } from "node:path";

// The broker's definitions as a development broker loads them: accounts,
// then topology and permissions.
export function developmentDefinitions(repo) {
  const topology = JSON.parse(readFileSync(join(repo, "deploy/rabbitmq/topology.json"), "utf8"));
  const accounts = JSON.parse(readFileSync(join(repo, "deploy/rabbitmq/dev-accounts/accounts.json"), "utf8"));
  return { ...topology, users: accounts.users, permissions: [...(accounts.permissions ?? []), ...(topology.permissions ?? [])] };
}

const byName = (list, name) => (list ?? []).find((x) => x.name === name);

function bound(defs, source, destination) {
  return (defs.bindings ?? []).some((b) => b.source === source && b.destination === destination &&
    (b.destination_type ?? "queue") === "queue");
}

// The suffixes the command service uses, from its --help text
// ("rejects go to <queue>.dlx -> <queue>.dead"), else those defaults.
export function deadLetterNames(queueSetting, queue) {
  const m = /<queue>(\S+) -> <queue>(\S+)/.exec(queueSetting?.help ?? "");
  return { exchange: queue + (m?.[1] ?? ".dlx"), queue: queue + (m?.[2] ?? ".dead") };
}

function permits(pattern, name) {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return false;
  }
}

export const UNROUTED = "trigger.unrouted";

export function checkDefinitions(defs, { queue, deadLetter, users = [] }) {
  const problems = [];
  const trigger = byName(defs.exchanges, "trigger");
  if (!trigger) problems.push("exchange trigger is not declared");
  else {
    if (trigger.type !== "fanout" || trigger.durable !== true || trigger.auto_delete)
      problems.push("exchange trigger must be fanout, durable, not auto-delete (as the services declare it)");
    const args = JSON.stringify(trigger.arguments ?? {});
    if (args !== JSON.stringify({ "alternate-exchange": UNROUTED }))
      problems.push(`exchange trigger has arguments ${args}, the services declare {"alternate-exchange":"${UNROUTED}"}`);
  }
  const unrouted = byName(defs.exchanges, UNROUTED);
  if (!unrouted) problems.push(`alternate exchange ${UNROUTED} is not declared`);
  else if (unrouted.type !== "fanout" || unrouted.durable !== true || unrouted.auto_delete)
    problems.push(`exchange ${UNROUTED} must be fanout, durable, not auto-delete`);
  const kept = byName(defs.queues, UNROUTED);
  if (!kept) problems.push(`queue ${UNROUTED} (keeps unrouted events) is not declared`);
  else if (kept.durable !== true || kept.auto_delete || Object.keys(kept.arguments ?? {}).length)
    problems.push(`queue ${UNROUTED} must be durable, not auto-delete, without arguments`);
  else if (!bound(defs, UNROUTED, UNROUTED)) problems.push(`queue ${UNROUTED} is not bound to exchange ${UNROUTED}`);
  const q = byName(defs.queues, queue);
  if (!q) problems.push(`queue ${queue} (the command service's RabbitMQQueue) is not declared`);
  else {
    if (q.durable !== true || q.auto_delete) problems.push(`queue ${queue} must be durable, not auto-delete`);
    if (!bound(defs, "trigger", queue)) problems.push(`queue ${queue} is not bound to trigger`);
    const dlx = q.arguments?.["x-dead-letter-exchange"];
    if (dlx !== deadLetter.exchange)
      problems.push(`queue ${queue}: x-dead-letter-exchange is ${dlx ?? "unset"}, the service declares ${deadLetter.exchange}`);
    if (q.arguments?.["x-queue-type"])
      problems.push(`queue ${queue}: x-queue-type set here but not by the service: its redeclaration would fail`);
  }
  const dlx = byName(defs.exchanges, deadLetter.exchange);
  if (!dlx) problems.push(`dead-letter exchange ${deadLetter.exchange} is not declared`);
  else if (dlx.type !== "fanout" || dlx.durable !== true) problems.push(`exchange ${deadLetter.exchange} must be fanout and durable`);
  const dead = byName(defs.queues, deadLetter.queue);
  if (!dead) problems.push(`dead-letter queue ${deadLetter.queue} is not declared`);
  else if (!bound(defs, deadLetter.exchange, deadLetter.queue))
    problems.push(`queue ${deadLetter.queue} is not bound to ${deadLetter.exchange}`);
  for (const { user, needs } of users) {
    if (!byName(defs.users, user)) {
      problems.push(`user ${user} is not defined (load_definitions leaves no default user)`);
      continue;
    }
    const perm = (defs.permissions ?? []).find((p) => p.user === user && p.vhost === "/");
    if (!perm) {
      problems.push(`user ${user} has no permissions on vhost /`);
      continue;
    }
    for (const [kind, names] of Object.entries(needs))
      for (const name of names)
        if (!permits(perm[kind], name)) problems.push(`user ${user} may not ${kind} ${name}`);
  }
  return problems;
}
