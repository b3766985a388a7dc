// The article's Redis Streams flow through ioredis's stream commands.
//
// Run by internal/app/streams_clients_test.go, with ioredis installed
// outside the repository and found through NODE_PATH:
//     node article.js HOST PORT
// It flushes the server, runs the flow and prints one JSON summary on
// stdout, the same summary article.py prints for redis-py. Any unexpected
// reply throws, so a failure exits non-zero with the error on stderr.
"use strict";

const os = require("os");
const Redis = require("ioredis");

const ORDERS = "orders-stream";
const GROUP = "order-processors";
const DEAD = "orders-dead-letter";
const PAYMENTS = "payments-stream";
const NOTIFIERS = "notifiers";
const MAXLEN = 100000; // MAXLEN ~ 100000, as the article caps its streams
const CLAIM_IDLE = 60000; // XCLAIM timeout
const DEAD_IDLE = 300000; // pending this long and delivered more than
const DEAD_COUNT = 3; // three times: dead letter

// The producer's five fields, as a flat field/value list.
function order(orderId, amount) {
  return ["orderId", orderId, "customerId", "C-1234", "amount", amount,
    "status", "pending", "timestamp", String(Date.now())];
}

// Field/value list to object.
function fields(list) {
  const o = {};
  for (let i = 0; i + 1 < list.length; i += 2) o[list[i]] = list[i + 1];
  return o;
}

// Flat XINFO reply (RESP2) to object.
function pairs(list) {
  return fields(list);
}

// The IDs of a single-stream XREADGROUP reply (null: none).
function readIds(reply) {
  if (reply === null) return [];
  if (reply.length !== 1) throw new Error("XREADGROUP reply for " + reply.length + " streams");
  return reply[0][1].map((e) => e[0]);
}

// Stands for time passing: id (owned by consumer) looks idle for idleMs
// and delivered count times. A setup step, not article code.
function timeMachine(r, consumer, id, idleMs, count) {
  return r.xclaim(ORDERS, GROUP, consumer, 0, id, "IDLE", idleMs, "RETRYCOUNT", count, "JUSTID");
}

async function blockedClients(r) {
  const m = /blocked_clients:(\d+)/.exec(await r.info("clients"));
  if (!m) throw new Error("INFO clients has no blocked_clients");
  return Number(m[1]);
}

function assertEq(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(what + ": got " + JSON.stringify(got) + ", want " + JSON.stringify(want));
  }
}

async function main() {
  const [host, port] = process.argv.slice(2);
  const opts = { host, port: Number(port), maxRetriesPerRequest: 0, retryStrategy: () => null };
  const r = new Redis(opts);
  const other = new Redis(opts);
  try {
    await r.flushall();
    const out = { client: "ioredis " + require("ioredis/package.json").version };
    const me = `worker-${os.hostname()}-${process.pid}`;
    const crashed = `worker-${os.hostname()}-${process.pid + 1}`;
    out.consumer = me;
    out.crashed = crashed;

    // Consumer group, created once; BUSYGROUP on the second try.
    out.created = (await r.xgroup("CREATE", ORDERS, GROUP, "$", "MKSTREAM")) === "OK";
    try {
      await r.xgroup("CREATE", ORDERS, GROUP, "$", "MKSTREAM");
      out.busygroup = "";
    } catch (e) {
      out.busygroup = e.message;
    }
    const read = (consumer) => r.xreadgroup("GROUP", GROUP, consumer, "COUNT", 10, "STREAMS", ORDERS, ">");
    out.empty_read = readIds(await read(me)).length;

    // Producer: five fields, then capped with MAXLEN ~ 100000.
    const ids = [await r.xadd(ORDERS, "*", ...order("ORD-2026-0042", "2500000"))];
    ids.push(await r.xadd(ORDERS, "MAXLEN", "~", MAXLEN, "*", "orderId", "ORD-2026-0043", "amount", "1800000"));
    for (let i = 2; i < 12; i++) {
      const amount = i === 4 ? "n/a" : String(1000000 + i);
      ids.push(await r.xadd(ORDERS, "MAXLEN", "~", MAXLEN, "*", ...order(`ORD-2026-${String(100 + i).padStart(4, "0")}`, amount)));
    }
    out.ids = ids;

    // Consumer loop: read ten at a time, ack what processes.
    const batches = [];
    const failed = [];
    let acked = 0;
    for (;;) {
      const reply = await read(me);
      batches.push(readIds(reply).length);
      if (reply === null) break;
      for (const [id, list] of reply[0][1]) {
        if (Number.isNaN(Number.parseFloat(fields(list).amount))) {
          failed.push(id);
          continue;
        }
        acked += await r.xack(ORDERS, GROUP, id);
      }
    }
    Object.assign(out, { batches, acked, failed });

    // Dead letter: too early to claim; then (time passes) pending for
    // over five minutes after four deliveries, so it moves.
    out.early_claim = (await r.xclaim(ORDERS, GROUP, me, CLAIM_IDLE, ...failed)).length;
    await timeMachine(r, me, failed[0], DEAD_IDLE + 60000, DEAD_COUNT + 1);
    const pending = await r.xpending(ORDERS, GROUP, "-", "+", 20);
    out.pending = pending.map(([id, consumer, , count]) => [id, consumer, count]);
    out.pending_idle_ok = pending.every(([, , idle]) => idle > DEAD_IDLE);
    const moved = [];
    for (const [id, , idle, count] of pending) {
      if (idle > DEAD_IDLE && count > DEAD_COUNT) {
        const entry = await r.xrange(ORDERS, id, id);
        if (entry.length > 0) {
          await r.xadd(DEAD, "*", ...entry[0][1]);
          await r.xack(ORDERS, GROUP, id);
          moved.push(id);
        }
      }
    }
    out.dead_moved = moved;
    out.dead_entries = (await r.xrange(DEAD, "-", "+")).map(([, list]) => [fields(list).orderId, list.length / 2]);

    // A crashed worker's entry is reclaimed with XCLAIM min-idle 60000.
    const rid = await r.xadd(ORDERS, "*", ...order("ORD-2026-0500", "10"));
    assertEq(readIds(await read(crashed)), [rid], "crashed worker's read");
    await timeMachine(r, crashed, rid, CLAIM_IDLE + 30000, 1);
    const claimed = await r.xclaim(ORDERS, GROUP, me, CLAIM_IDLE, rid);
    const [row] = await r.xpending(ORDERS, GROUP, rid, rid, 1);
    out.reclaim = { id: rid, claimed: claimed.map((e) => e[0]), owner: row[1], count: row[3] };
    await r.xack(ORDERS, GROUP, rid);

    // XAUTOCLAIM takes the idle one of two.
    const a1 = await r.xadd(ORDERS, "*", ...order("ORD-2026-0501", "11"));
    const a2 = await r.xadd(ORDERS, "*", ...order("ORD-2026-0502", "12"));
    assertEq(readIds(await read(crashed)), [a1, a2], "crashed worker's second read");
    await timeMachine(r, crashed, a1, CLAIM_IDLE + 30000, 1);
    const [next, got, deleted] = await r.xautoclaim(ORDERS, GROUP, me, CLAIM_IDLE, "0-0", "COUNT", 10);
    out.autoclaim = { ids: [a1, a2], claimed: got.map((e) => e[0]), next, deleted };
    await r.xack(ORDERS, GROUP, a1);

    // Monitoring.
    const info = pairs(await r.xinfo("STREAM", ORDERS));
    out.info_stream = {
      length: info.length,
      entries_added: info["entries-added"],
      groups: info.groups,
      last_generated_id: info["last-generated-id"],
      first_entry: info["first-entry"][0],
      last_entry: info["last-entry"][0],
      last_entry_order: fields(info["last-entry"][1]).orderId,
    };
    out.info_groups = (await r.xinfo("GROUPS", ORDERS)).map(pairs).map((g) => ({
      name: g.name,
      consumers: g.consumers,
      pending: g.pending,
      last_delivered_id: g["last-delivered-id"],
      entries_read: g["entries-read"],
      lag: g.lag,
    }));
    out.info_consumers = (await r.xinfo("CONSUMERS", ORDERS, GROUP)).map(pairs)
      .map((c) => [c.name, c.pending]).sort();
    out.trim = await r.xtrim(ORDERS, "MAXLEN", "~", 50000);
    out.xdel = await r.xdel(ORDERS, ids[0]);
    out.xlen = await r.xlen(ORDERS);
    const after = pairs(await r.xinfo("STREAM", ORDERS));
    out.after_delete = { first_entry: after["first-entry"][0], max_deleted: after["max-deleted-entry-id"] };

    // A blocked XREADGROUP is woken by another client's XADD.
    await r.xgroup("CREATE", PAYMENTS, NOTIFIERS, "$", "MKSTREAM");
    const start = Date.now();
    const blocked = r.xreadgroup("GROUP", NOTIFIERS, "worker-email", "COUNT", 10, "BLOCK", 5000, "STREAMS", PAYMENTS, ">")
      .then((reply) => ({ reply, ms: Date.now() - start }));
    const deadline = Date.now() + 5000;
    while ((await blockedClients(other)) !== 1) {
      if (Date.now() > deadline) throw new Error("the reader never blocked");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const added = await other.xadd(PAYMENTS, "*", "orderId", "ORD-2026-0042", "status", "paid");
    const woken = await blocked;
    const t0 = Date.now();
    const timedOut = await r.xreadgroup("GROUP", NOTIFIERS, "worker-sms", "COUNT", 10, "BLOCK", 100, "STREAMS", PAYMENTS, ">");
    out.block = {
      added,
      woken: readIds(woken.reply),
      ms: woken.ms,
      timeout_entries: readIds(timedOut).length,
      timeout_ms: Date.now() - t0,
      blocked_after: await blockedClients(other),
    };
    process.stdout.write(JSON.stringify(out) + "\n");
  } finally {
    r.disconnect();
    other.disconnect();
  }
}

main().catch((e) => {
  process.stderr.write((e && e.stack) || String(e));
  process.stderr.write("\n");
  process.exit(1);
});
