// bench/queue peer: BullMQ on Redis doing what queue_bench does.
// Usage: node bullmq.mjs PORT enqueue N
//        node bullmq.mjs PORT e2e N WORKERS CONCURRENCY
// Prints one JSON line.
import { Queue, Worker } from "bullmq";

const [port, mode, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const connection = { host: "127.0.0.1", port };
const payload = { blob: "x".repeat(1000) };
const name = `bench-${mode}-${process.pid}-${Date.now()}`;
const queue = new Queue(name, { connection });

async function addAll(total, batch) {
  for (let i = 0; i < total; i += batch) {
    const jobs = [];
    for (let k = i; k < Math.min(total, i + batch); k++) jobs.push({ name: "t", data: { ...payload, k } });
    await queue.addBulk(jobs);
  }
}

if (mode === "enqueue") {
  const t0 = process.hrtime.bigint();
  await addAll(n, 1000);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ engine: "bullmq", mode, jobs: n, jobsPerSecond: n / s }));
} else {
  const workers = Number(process.argv[5]), concurrency = Number(process.argv[6]);
  const lat = [];
  let done = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const ws = [];
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(name, async () => ({}), { connection, concurrency, autorun: true });
    worker.on("completed", (job) => {
      lat.push(Date.now() - job.timestamp);
      if (++done === n) finish();
    });
    ws.push(worker);
  }
  const t0 = process.hrtime.bigint();
  await addAll(n, 500);
  await finished;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ engine: "bullmq", mode, jobs: n, workers, concurrency, jobsPerSecond: n / s,
                               p50ms: lat[Math.floor(lat.length * 0.5)], p99ms: lat[Math.floor(lat.length * 0.99)] }));
  await Promise.all(ws.map((w) => w.close()));
}
await queue.close();
