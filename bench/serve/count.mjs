// Prints how many tasks the peer queued: node count.mjs REDIS_PORT
import { Queue } from "bullmq";
const queue = new Queue("tasks", { connection: { host: "127.0.0.1", port: Number(process.argv[2]) } });
const counts = await queue.getJobCounts("waiting", "delayed", "prioritized");
console.log(Object.values(counts).reduce((a, b) => a + b, 0));
await queue.close();
