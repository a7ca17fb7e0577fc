// Peers for bench/creds: JWT signing with jose (ES256, as an API token
// service would, and HS256, the algorithm of infra-agent's local tokens)
// and SigV4 signing of the same STS AssumeRole request with aws4.
//   node peers.mjs SECONDS
import * as jose from "jose";
import aws4 from "aws4";

const seconds = Number(process.argv[2] || 2);

async function measure(name, fn) {
  const lat = [];
  for (let i = 0; i < 1000; ++i) await fn(i);  // warm up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    await fn(n);
    lat.push(performance.now() - t);
    ++n;
  }
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 1000;
  console.log(JSON.stringify({ engine: name, perSecond: n / elapsed, p50us: q(0.5), p99us: q(0.99) }));
}

const { privateKey } = await jose.generateKeyPair("ES256");
const secret = new Uint8Array(32).fill(7);
const claims = (i) => ({ iss: "infra-agent", jti: "01JD" + i, sub: "task-" + i,
  scope: "git:push:branch=infra-agent/*,repo=acme/infra" });
await measure("jose-es256", (i) =>
  new jose.SignJWT(claims(i)).setProtectedHeader({ alg: "ES256" }).setIssuedAt().setExpirationTime("15m").sign(privateKey));
await measure("jose-hs256", (i) =>
  new jose.SignJWT(claims(i)).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("15m").sign(secret));

const body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffixer" +
  "&RoleSessionName=infra-agent-01JD&DurationSeconds=900&Policy=%7B%22Version%22%3A%222012-10-17%22%7D&SourceIdentity=infra-agent";
const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
await measure("aws4-sigv4", () => {
  aws4.sign({ host: "sts.amazonaws.com", method: "POST", path: "/", service: "sts", region: "us-east-1", body,
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } }, creds);
});
