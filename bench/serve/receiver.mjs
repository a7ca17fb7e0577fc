// The peer for bench/serve: what a team would write in Node.js for the same
// job: a GitHub webhook receiver that verifies X-Hub-Signature-256 with
// @octokit/webhooks, parses the delivery, and enqueues a task on BullMQ
// (Redis), deduplicated by a key of repository, rule, file and line, then
// answers 202 with the job id.
//   node receiver.mjs PORT REDIS_PORT SECRET
import http from "node:http";
import { createHash } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { Queue } from "bullmq";

const [port, redisPort, secret] = process.argv.slice(2);
const webhooks = new Webhooks({ secret });
const queue = new Queue("tasks", { connection: { host: "127.0.0.1", port: Number(redisPort) } });
const limit = 5 << 20;

http
  .createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/hooks/github") return res.writeHead(404).end();
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > limit) return res.writeHead(413).end();
      chunks.push(c);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const signature = req.headers["x-hub-signature-256"];
    if (!signature || !(await webhooks.verify(body, signature))) return res.writeHead(401).end();
    let payload;
    try {
      payload = JSON.parse(body);
    } catch {
      return res.writeHead(400).end();
    }
    const alert = payload.alert ?? {};
    const where = alert.most_recent_instance?.location ?? {};
    const key = [payload.repository?.full_name, alert.rule?.id, where.path, where.start_line].join(":");
    try {
      const job = await queue.add(
        "compliance-remediation",
        { type: "compliance-remediation", delivery: req.headers["x-github-delivery"], alert },
        { jobId: createHash("sha256").update(key).digest("hex") },
      );
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ taskIds: [job.id] }));
    } catch {
      res.writeHead(503).end();
    }
  })
  .listen(Number(port), "127.0.0.1", () => console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` })));
