// A small Dockerfile parser (instructions, continuations, stages) and the
// rules our container files keep: known instructions, named stages, runtime
// stages with a non-root USER and a HEALTHCHECK, slim runtime bases.

const INSTRUCTIONS = new Set([
  "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
  "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
]);

// -> { instructions: [{keyword, args, line}], problems }
export function parseDockerfile(text) {
  const instructions = [];
  const problems = [];
  let pending = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (pending === null && /^\s*(#.*)?$/.test(line)) return;
    if (pending !== null && /^\s*#/.test(line)) return; // comments inside a continuation
    const body = line.endsWith("\\") ? line.slice(0, -1) : line;
    if (pending === null) {
      const m = /^\s*([A-Za-z]+)(\s+(.*))?$/.exec(body);
      if (!m) {
        problems.push(`line ${i + 1}: not an instruction: ${line.trim()}`);
        return;
      }
      pending = { keyword: m[1].toUpperCase(), args: m[3] ?? "", line: i + 1 };
    } else {
      pending.args += " " + body.trim();
    }
    if (!line.endsWith("\\")) {
      pending.args = pending.args.trim();
      instructions.push(pending);
      pending = null;
    }
  });
  if (pending) problems.push(`line ${pending.line}: continuation runs past the end of the file`);
  for (const ins of instructions) {
    if (!INSTRUCTIONS.has(ins.keyword)) problems.push(`line ${ins.line}: unknown instruction ${ins.keyword}`);
    else if (!ins.args && ins.keyword !== "HEALTHCHECK") problems.push(`line ${ins.line}: ${ins.keyword} without arguments`);
  }
  return { instructions, problems };
}

// -> [{ name, base, instructions }] in file order
export function stages(instructions) {
  const result = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const m = /^(--platform=\S+\s+)?(\S+)(\s+AS\s+(\S+))?$/i.exec(ins.args);
      result.push({ name: m?.[4] ?? String(result.length), base: m?.[2] ?? "", instructions: [], line: ins.line });
    } else if (result.length) {
      result[result.length - 1].instructions.push(ins);
    }
  }
  return result;
}

// The stage and the stages it is built FROM, nearest first.
function chain(all, stage) {
  const out = [stage];
  for (let s = stage; (s = all.find((x) => x.name === s.base)); ) out.push(s);
  return out;
}

const lastOf = (stagesChain, keyword) => {
  for (const s of stagesChain) {
    const found = [...s.instructions].reverse().find((i) => i.keyword === keyword);
    if (found) return found;
  }
  return null;
};

// Packages named by `apt-get install` lines in a stage.
export function aptPackages(stage) {
  const pkgs = new Set();
  for (const ins of stage.instructions.filter((i) => i.keyword === "RUN"))
    for (const cmd of ins.args.split(/&&|;/)) {
      const m = /apt-get\s+install\s+(.*)$/.exec(cmd.trim());
      if (m) for (const w of m[1].split(/\s+/)) if (w && !w.startsWith("-") && !w.includes("<")) pkgs.add(w);
    }
  return pkgs;
}

// Runtime stages: those nothing else builds from or copies from (the targets).
export function checkDockerfile(text, { targets = [] } = {}) {
  const { instructions, problems } = parseDockerfile(text);
  const all = stages(instructions);
  if (all.length === 0) return { problems: [...problems, "no FROM"], stages: all };
  if (instructions[0].keyword !== "FROM" && !instructions.slice(0, instructions.findIndex((i) => i.keyword === "FROM")).every((i) => i.keyword === "ARG"))
    problems.push("instructions before the first FROM other than ARG");
  const sources = new Set();
  for (const s of all) {
    sources.add(s.base);
    for (const i of s.instructions) {
      const m = /--from=(\S+)/.exec(i.args);
      if (i.keyword === "COPY" && m) {
        if (!all.some((x) => x.name === m[1]) && !m[1].includes("/") && !m[1].includes(":"))
          problems.push(`line ${i.line}: COPY --from=${m[1]} names no stage`);
        sources.add(m[1]);
      }
    }
  }
  const runtime = all.filter((s) => !sources.has(s.name));
  for (const s of runtime) {
    const c = chain(all, s);
    const user = lastOf(c, "USER");
    if (!user) problems.push(`stage ${s.name}: no USER (runs as root)`);
    else if (/^(0|root)(:|$)/.test(user.args)) problems.push(`stage ${s.name}: USER ${user.args} is root`);
    if (!lastOf(c, "HEALTHCHECK")) problems.push(`stage ${s.name}: no HEALTHCHECK`);
    const image = c[c.length - 1].base;
    if (!/slim|alpine|distroless/.test(image)) problems.push(`stage ${s.name}: runtime base ${image} is not a slim image`);
    for (const p of c.flatMap((x) => [...aptPackages(x)]))
      if (/-dev$|^build-essential$|^cmake$|^g\+\+/.test(p)) problems.push(`stage ${s.name}: runtime installs build package ${p}`);
  }
  for (const t of targets) if (!all.some((s) => s.name === t)) problems.push(`no stage named ${t}`);
  return { problems, stages: all, runtime };
}
