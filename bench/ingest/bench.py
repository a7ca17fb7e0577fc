#!/usr/bin/env python3
"""bench/ingest: findings per second, MB/s and peak memory of `infra-agent
ingest` on a 10,000-finding Checkov report and a 10,000-result SARIF file,
side by side with jq (Debian's) turning the same findings into task-shaped
JSON Lines. The last line is the ratio."""
import json, os, resource, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("INFRA_AGENT", os.path.join(ROOT, "build-release", "src", "infra-agent"))
N = int(os.environ.get("BENCH_FINDINGS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SAMPLE = os.path.join(ROOT, "tests/fixtures/samples/scanners/checkov/list-form-report.json")

JQ_CHECKOV = r'''
.[] | .check_type as $fw | .results.failed_checks[]? |
{type: "compliance-remediation",
 trigger: {source: "api", provider: "checkov", sourceId: (.check_id + "@" + .repo_file_path)},
 context: {repositoryId: "acme/infra", agentSlug: "builtin", priority: "normal", resource: .resource},
 payload: {finding: {tool: "checkov", ruleId: .check_id, title: .check_name, resource: .resource,
   file: (.repo_file_path | ltrimstr("/")), startLine: .file_line_range[0], endLine: .file_line_range[1],
   guideline: .guideline, framework: $fw}}}'''

JQ_SARIF = r'''
.runs[] | .tool.driver.name as $tool | .results[] |
{type: "compliance-remediation",
 trigger: {source: "api", provider: ($tool | ascii_downcase)},
 context: {repositoryId: "acme/infra", agentSlug: "builtin", priority: "high"},
 payload: {finding: {tool: $tool, ruleId: .ruleId, message: .message.text,
   file: .locations[0].physicalLocation.artifactLocation.uri,
   startLine: .locations[0].physicalLocation.region.startLine,
   endLine: .locations[0].physicalLocation.region.endLine}}}'''


def make_checkov(path):
    base = json.load(open(SAMPLE))
    tf = next(r for r in base if r["check_type"] == "terraform")
    checks = tf["results"]["failed_checks"]
    out = []
    for i in range(N):
        c = dict(checks[i % len(checks)])
        c["resource"] = "aws_s3_bucket.b%d" % i
        c["file_line_range"] = [i * 10 + 1, i * 10 + 8]
        c["repo_file_path"] = "/modules/m%d/main.tf" % (i % 97)
        out.append(c)
    tf = dict(tf)
    tf["results"] = {"passed_checks": [], "failed_checks": out, "skipped_checks": [], "parsing_errors": []}
    json.dump([tf], open(path, "w"), indent=2)


def make_sarif(path):
    results = [{"ruleId": "CKV_AWS_%d" % (i % 300), "level": "error",
                "message": {"text": "Ensure the bucket is encrypted (%d)" % i},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "modules/m%d/main.tf" % (i % 97)},
                                                    "region": {"startLine": i * 10 + 1, "endLine": i * 10 + 8}}}]}
               for i in range(N)]
    rules = [{"id": "CKV_AWS_%d" % r, "name": "rule %d" % r, "helpUri": "https://example.test/%d" % r}
             for r in range(300)]
    json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Checkov", "rules": rules}},
                                             "results": results}]}, open(path, "w"))


def measure(cmd):
    """Best wall time of RUNS runs, and the number of output lines."""
    best, lines = None, 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit("bench: %s failed: %s" % (cmd[0], p.stderr.decode()[:500]))
        lines = p.stdout.count(b"\n")
        best = dt if best is None else min(best, dt)
    return best, lines


def peak_rss(cmd):
    """Peak RSS in KiB of one run of cmd, measured in a fresh child."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(subprocess.check_output([sys.executable, "-c", code] + cmd).strip())


def main():
    if not os.path.exists(BIN):
        sys.exit("bench: build infra-agent first (%s)" % BIN)
    tmp = tempfile.mkdtemp(prefix="bench-ingest-")
    checkov, sarif = os.path.join(tmp, "checkov.json"), os.path.join(tmp, "results.sarif")
    make_checkov(checkov)
    make_sarif(sarif)
    ratios = []
    print("%-8s %-12s %10s %12s %9s %10s" % ("input", "tool", "findings", "findings/s", "MB/s", "peak MiB"))
    for name, path, source, prog in (("checkov", checkov, "checkov", JQ_CHECKOV), ("sarif", sarif, "sarif", JQ_SARIF)):
        mb = os.path.getsize(path) / 1e6
        ours = [BIN, "ingest", source, path, "--repo", "acme/infra", "--json"]
        peer = ["jq", "-c", prog, path]
        t_ours, n_ours = measure(ours)
        t_peer, n_peer = measure(peer)
        if n_ours != N or n_peer != N:
            sys.exit("bench: expected %d tasks, got %d (infra-agent) and %d (jq)" % (N, n_ours, n_peer))
        m_ours, m_peer = peak_rss(ours) / 1024, peak_rss(peer) / 1024
        for tool, t, m in (("infra-agent", t_ours, m_ours), ("jq", t_peer, m_peer)):
            print("%-8s %-12s %10d %12.0f %9.1f %10.1f" % (name, tool, N, N / t, mb / t, m))
        ratios.append((name, t_peer / t_ours, m_peer / m_ours))
    print("; ".join("%s: %.2fx jq's findings/s, %.2fx less peak memory" % r for r in ratios))


if __name__ == "__main__":
    main()
