#!/usr/bin/env python3
"""Writes equivalent rule sets for infra-agent (YAML), Cedar and CEL, and a
set of tasks, for bench/policy. Usage: gen.py OUTDIR N [N...]"""
import json, os, random, sys

TYPES = ["compliance-remediation", "drift-detection", "pr-review", "chat", "incident-triage"]
ENVS = ["production", "staging", "dev", "qa", "sandbox", "prod-eu", "prod-us"]


def rule(i):
    r = {"name": "r%d" % i, "type": TYPES[i % 5], "envs": [ENVS[i % 7], ENVS[(i + 3) % 7]],
         "deny": i % 16 == 15, "tier": i % 4}
    if i % 10 == 9:
        r["glob"] = "aws_s3_bucket.b%d*" % (i % 50)
    else:
        r["ruleId"] = "CKV_AWS_%d" % (i % 400)
    return r


def yaml_rules(rules):
    out = ["apiVersion: infra-agent/v1", "kind: Policy", "metadata: {name: bench}", "rules:"]
    for r in rules:
        m = "type: %s, context.environment: [%s]" % (r["type"], ", ".join(r["envs"]))
        m += ", context.resource: \"%s\"" % r["glob"] if "glob" in r else ", payload.finding.canonicalRuleId: %s" % r["ruleId"]
        tail = "effect: deny, reason: bench" if r["deny"] else "tier: %d" % r["tier"]
        out.append("  - {name: %s, match: {%s}, %s}" % (r["name"], m, tail))
    return "\n".join(out) + "\n"


def cedar_rules(rules):
    out = []
    for r in rules:
        envs = ", ".join('"%s"' % e for e in r["envs"])
        cond = 'context.type == "%s" && [%s].contains(context.environment)' % (r["type"], envs)
        cond += ' && context.resource like "%s"' % r["glob"] if "glob" in r else ' && context.ruleId == "%s"' % r["ruleId"]
        out.append('@id("%s")\n%s(principal, action, resource) when { %s };' % (r["name"], "forbid" if r["deny"] else "permit", cond))
    return "\n".join(out) + "\n"


def cel_rules(rules):
    out = []
    for r in rules:
        envs = ", ".join("'%s'" % e for e in r["envs"])
        cond = "type == '%s' && environment in [%s]" % (r["type"], envs)
        cond += " && resource.startsWith('%s')" % r["glob"][:-1] if "glob" in r else " && ruleId == '%s'" % r["ruleId"]
        out.append({"name": r["name"], "expr": cond, "deny": r["deny"], "tier": r["tier"]})
    return out


def tasks(n=256):
    rnd = random.Random(7)
    out = []
    for i in range(n):
        t = {"id": "T%05d" % i, "type": rnd.choice(TYPES),
             "trigger": {"source": "api", "provider": "bench", "timestamp": "2026-11-24T12:00:00Z"},
             "context": {"organizationId": "acme", "repositoryId": "acme/infra", "agentSlug": "builtin",
                         "priority": "normal", "environment": rnd.choice(ENVS),
                         "resource": "aws_s3_bucket.b%d" % rnd.randrange(60)},
             "payload": {"finding": {"canonicalRuleId": "CKV_AWS_%d" % rnd.randrange(400)}},
             "dedupeKey": "k%d" % i}
        out.append(t)
    return out


def main():
    outdir, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "tasks.jsonl"), "w") as f:
        for t in tasks():
            f.write(json.dumps(t) + "\n")
    for n in sizes:
        rules = [rule(i) for i in range(n)]
        d = os.path.join(outdir, "rules-%d" % n)
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "policy.yaml"), "w").write(yaml_rules(rules))
        open(os.path.join(outdir, "rules-%d.cedar" % n), "w").write(cedar_rules(rules))
        json.dump(cel_rules(rules), open(os.path.join(outdir, "rules-%d.cel.json" % n), "w"))


if __name__ == "__main__":
    main()
