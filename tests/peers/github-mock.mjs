// Serves a GitHub REST API mock on 127.0.0.1 with Prism, from GitHub's own
// OpenAPI description (@octokit/openapi), trimmed to the paths infra-agent
// calls so that it starts in about a second. Prism answers with the
// description's examples and refuses requests the schema does not allow.
//   node github-mock.mjs PORT
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const port = process.argv[2] || "4010";
const doc = JSON.parse(readFileSync(join(here, "node_modules/@octokit/openapi/generated/api.github.com.json"), "utf8"));
const keep = [
  "/repos/{owner}/{repo}/pulls",
  "/repos/{owner}/{repo}/pulls/{pull_number}",
  "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  "/repos/{owner}/{repo}/issues/{issue_number}/labels",
  "/orgs/{org}/teams/{team_slug}/memberships/{username}",
  "/app/installations/{installation_id}/access_tokens",
  "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
  "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
  "/repos/{owner}/{repo}/actions/runs/{run_id}",
  "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
  "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
  "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
  "/repos/{owner}/{repo}/commits/{ref}/check-runs",
];
const paths = {};
for (const p of keep) paths[p] = doc.paths[p];

// Keep only the components the kept paths reach.
const components = {};
const seen = new Set();
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (!node || typeof node !== "object") return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/") && !seen.has(v)) {
      seen.add(v);
      const [, , kind, name] = v.split("/");
      const target = doc.components[kind][name];
      (components[kind] ||= {})[name] = target;
      walk(target);
    } else walk(v);
  }
}
walk(paths);
const trimmed = { ...doc, paths, components, webhooks: undefined, "x-webhooks": undefined };
const dir = mkdtempSync(join(tmpdir(), "github-mock-"));
const file = join(dir, "api.github.com.json");
writeFileSync(file, JSON.stringify(trimmed));
const prism = spawn(join(here, "node_modules/.bin/prism"), ["mock", "-h", "127.0.0.1", "-p", port, "--errors", file], {
  stdio: ["ignore", "ignore", "inherit"],
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => prism.kill(sig));
prism.on("exit", (code) => process.exit(code ?? 1));
