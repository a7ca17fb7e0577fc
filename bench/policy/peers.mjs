// bench/policy peers: Cedar (wasm, policies parsed once) and CEL (programs
// planned once) deciding for the same tasks against the same rules.
// Usage: node peers.mjs OUTDIR N SECONDS; prints one JSON line per engine.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { celEnv, parse, plan, isCelError } from "@bufbuild/cel";

const require = createRequire(import.meta.url);
const cedar = require("@cedar-policy/cedar-wasm/nodejs");

const [outdir, n, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1)];
const tasks = readFileSync(`${outdir}/tasks.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));

function measure(name, decide) {
  const lat = [];
  let matched = 0;
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  for (let i = 0; ; i++) {
    const t0 = process.hrtime.bigint();
    matched += decide(tasks[i % tasks.length]);
    const t1 = process.hrtime.bigint();
    lat.push(Number(t1 - t0) / 1000);
    if ((i & 63) === 0 && t1 > until) break;
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(JSON.stringify({ engine: name, rules: n, decisions: lat.length, perSecond: lat.length / total,
                               p50us: q(0.5), p99us: q(0.99), matchedPerDecision: matched / lat.length }));
}

// Cedar: the policy set is parsed once (preparsePolicySet); each decision
// evaluates every policy and reports the determining ones.
const text = readFileSync(`${outdir}/rules-${n}.cedar`, "utf8");
const parsed = cedar.preparsePolicySet("bench", { staticPolicies: text });
if (parsed.type !== "success") throw new Error(JSON.stringify(parsed.errors).slice(0, 500));
const uid = (type, id) => ({ type, id });
measure("cedar", (t) => {
  const a = cedar.statefulIsAuthorized({
    principal: uid("Agent", t.context.agentSlug), action: uid("Action", "act"), resource: uid("Task", t.id),
    context: { type: t.type, environment: t.context.environment, ruleId: t.payload.finding.canonicalRuleId,
               resource: t.context.resource },
    preparsedPolicySetId: "bench", entities: [],
  });
  if (a.type !== "success") throw new Error(JSON.stringify(a.errors).slice(0, 500));
  return a.response.diagnostics.reason.length;
});

// CEL: each rule is one program, planned once; a decision runs them all.
const rules = JSON.parse(readFileSync(`${outdir}/rules-${n}.cel.json`, "utf8"));
const env = celEnv();
const programs = rules.map((r) => ({ ...r, run: plan(env, parse(r.expr)) }));
measure("cel", (t) => {
  const vars = { type: t.type, environment: t.context.environment, ruleId: t.payload.finding.canonicalRuleId,
                 resource: t.context.resource };
  let hits = 0;
  for (const p of programs) {
    const v = p.run(vars);
    if (isCelError(v)) throw new Error(String(v));
    if (v === true) hits++;
  }
  return hits;
});
