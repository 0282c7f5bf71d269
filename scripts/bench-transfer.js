#!/usr/bin/env node
// Measures `transfer` at scale: generates N memories (default 1,000,000) into a
// temporary SQLite file, then transfers them to a fresh database on a PostgreSQL
// server and prints the time and the peak memory (maxRSS) of the transfer.
// Generation and transfer run in separate child processes, so the peak belongs
// to the transfer alone. Not part of CI (it takes minutes).
//
//   npm run build && node scripts/bench-transfer.js [--count 1000000] [--batch-size 5000]
//       [--pg postgres://root@127.0.0.1:5432/test] [--keep]
//
// --pg is the server to create the scratch database on (default AIMEMO_TEST_PG_URL,
// then postgres://root@127.0.0.1:5432/test); --keep leaves the SQLite file and the
// database in place. AIMEMO_DIST points at another build of the package (default ./dist).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.resolve(process.env.AIMEMO_DIST || path.join(__dirname, '..', 'dist'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const mib = (kib) => Math.round(kib / 1024);

// ---------------------------------------------------------------- child: generate
async function generate(file, count) {
  const { SQLiteStore } = require(path.join(dist, 'src'));
  const words = ('user prefers dark mode project fastapi postgres sqlite deploy docker kubernetes meeting tuesday ' +
    'coffee allergy peanuts vegetarian daughter birthday march travel japan tokyo budget invoice customer support ' +
    'ticket refund login password reset oauth token jwt python typescript react component testing jest migration ' +
    'schema index query latency cache redis queue worker retry timeout error logging metrics dashboard alert pager ' +
    'holiday vacation flight hotel booking restaurant sushi pizza running marathon training music guitar piano book ' +
    'novel author history science physics chemistry biology garden tomato basil weather rain snow summer winter').split(' ');
  const tags = ['preference', 'project', 'personal', 'work', 'health', 'travel', 'food', 'tech', 'family', 'finance'];
  let seed = 42; // mulberry32: the same data on every run
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const store = new SQLiteStore(file);
  const started = Date.now();
  const batchSize = 10_000;
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < count; i += batchSize) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + batchSize); j++) {
      const n = 8 + Math.floor(rand() * 30);
      const content = Array.from({ length: n }, () => pick(words)).join(' ');
      batch.push({
        // a fifth in one large namespace (an agent's shared memory), the rest over 1,000 users
        namespace: j % 5 === 0 ? 'agent_shared' : `user_${Math.floor(rand() * 1000)}`,
        content: content[0].toUpperCase() + content.slice(1) + '.',
        tags: rand() < 0.6 ? [pick(tags), pick(tags)] : [],
        metadata: rand() < 0.5 ? { source: pick(['chat', 'email', 'import']), turn: j % 97, nested: { score: Math.round(rand() * 1000) / 1000 } } : {},
        timestamp: new Date(start + Math.floor(rand() * 2 * 365 * 86_400_000)),
      });
    }
    await store.saveMany(batch);
    if ((i / batchSize) % 10 === 9) process.stderr.write(`generate: ${(i + batchSize).toLocaleString('en-US')}\n`);
  }
  await store.close();
  console.log(JSON.stringify({ phase: 'generate', count, ms: Date.now() - started, bytes: fs.statSync(file).size }));
}

// ---------------------------------------------------------------- child: transfer
async function transferPhase(file, url, batchSize) {
  const { SQLiteStore, PostgresStore, transfer } = require(path.join(dist, 'src'));
  const source = new SQLiteStore(file);
  const destination = new PostgresStore(url);
  const started = Date.now();
  let lastPrint = 0;
  let peakHeap = 0;
  const result = await transfer(source, destination, {
    batchSize,
    onProgress: (p) => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      const now = Date.now();
      if (now - lastPrint > 10_000 || p.done === p.total) {
        lastPrint = now;
        process.stderr.write(`${p.phase}: ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} after ${((now - started) / 1000).toFixed(0)} s, rss ${mib(process.memoryUsage().rss / 1024)} MiB\n`);
      }
    },
  });
  const ms = Date.now() - started;
  await Promise.all([source.close(), destination.close()]);
  console.log(
    JSON.stringify({
      phase: 'transfer',
      count: result.read,
      written: result.written,
      namespaces: result.namespaces.length,
      verified: result.verified,
      ms,
      memoriesPerSecond: Math.round(result.read / (ms / 1000)),
      maxRssMiB: mib(process.resourceUsage().maxRSS),
      peakHeapMiB: Math.round(peakHeap / 1024 / 1024),
    }),
  );
}

// ---------------------------------------------------------------- parent
function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${args[0]} exited with ${code}`))));
  });
}

async function main() {
  const [phase] = process.argv.slice(2);
  if (phase === 'generate') return generate(process.argv[3], Number(process.argv[4]));
  if (phase === 'transfer') return transferPhase(process.argv[3], process.argv[4], Number(process.argv[5]));

  const count = Number(arg('count', '1000000'));
  const batchSize = Number(arg('batch-size', '5000'));
  const server = arg('pg', process.env.AIMEMO_TEST_PG_URL || 'postgres://root@127.0.0.1:5432/test');
  const keep = process.argv.includes('--keep');
  const postgres = require('postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aimemo-bench-'));
  const file = path.join(dir, 'source.db');
  const name = `aimemo_bench_${process.pid}`;
  const admin = postgres(server, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  try {
    console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${mib(os.totalmem() / 1024)} MiB RAM; PostgreSQL: ${execFileSync('psql', ['--version']).toString().trim()}`);
    const gen = await runChild(['generate', file, String(count)]);
    console.log(`generated ${gen.count.toLocaleString('en-US')} memories into SQLite in ${(gen.ms / 1000).toFixed(1)} s (${mib(gen.bytes / 1024)} MiB file)`);
    const t = await runChild(['transfer', file, url.toString(), String(batchSize)]);
    console.log(
      `transfer SQLite -> PostgreSQL: ${t.count.toLocaleString('en-US')} memories in ${t.namespaces} namespaces, ` +
        `${(t.ms / 1000).toFixed(1)} s (${t.memoriesPerSecond.toLocaleString('en-US')}/s), verified: ${t.verified}, ` +
        `peak RSS ${t.maxRssMiB} MiB (peak heap ${t.peakHeapMiB} MiB), batch size ${batchSize}`,
    );
    console.log(JSON.stringify({ generate: gen, transfer: t }));
  } finally {
    if (keep) console.log(`kept ${file} and ${url}`);
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
