"""The article's Redis Streams flow through redis-py's own stream API.

Run by internal/app/streams_clients_test.go with Debian's python3-redis:
    /usr/bin/python3 article.py HOST PORT
It flushes the server, runs the flow and prints one JSON summary on
stdout, which the Go test checks (article.js prints the same summary for
ioredis). Any unexpected reply raises, so a failure exits non-zero with a
traceback on stderr.
"""

import json
import os
import socket
import sys
import threading
import time

import redis

ORDERS = "orders-stream"
GROUP = "order-processors"
DEAD = "orders-dead-letter"
PAYMENTS = "payments-stream"
NOTIFIERS = "notifiers"
MAXLEN = 100000  # MAXLEN ~ 100000, as the article caps its streams
CLAIM_IDLE = 60000  # XCLAIM timeout
DEAD_IDLE = 300000  # pending this long and delivered more than
DEAD_COUNT = 3  # three times: dead letter


def order(order_id, amount):
    """The producer's five fields."""
    return {
        "orderId": order_id,
        "customerId": "C-1234",
        "amount": amount,
        "status": "pending",
        "timestamp": str(int(time.time() * 1000)),
    }


def time_machine(r, consumer, entry_id, idle_ms, count):
    """Stands for time passing: entry_id (owned by consumer) looks idle for
    idle_ms and delivered count times. A setup step, not article code."""
    r.xclaim(ORDERS, GROUP, consumer, 0, [entry_id], idle=idle_ms,
             retrycount=count, justid=True)


def blocked_clients(r):
    return int(r.info("clients")["blocked_clients"])


def read_ids(reply):
    """The IDs of a single-stream xreadgroup reply ([] for a null reply)."""
    if not reply:
        return []
    [[stream, entries]] = reply
    assert stream in (ORDERS, PAYMENTS), stream
    return [entry_id for entry_id, _ in entries]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    r = redis.Redis(host=host, port=port, decode_responses=True)
    other = redis.Redis(host=host, port=port, decode_responses=True)
    r.flushall()
    out = {"client": "redis-py " + redis.__version__}
    me = "worker-%s-%d" % (socket.gethostname(), os.getpid())
    crashed = "worker-%s-%d" % (socket.gethostname(), os.getpid() + 1)
    out["consumer"], out["crashed"] = me, crashed

    # Consumer group, created once; BUSYGROUP on the second try.
    out["created"] = r.xgroup_create(ORDERS, GROUP, id="$", mkstream=True)
    try:
        r.xgroup_create(ORDERS, GROUP, id="$", mkstream=True)
        out["busygroup"] = ""
    except redis.ResponseError as e:
        out["busygroup"] = str(e)
    out["empty_read"] = len(read_ids(
        r.xreadgroup(GROUP, me, {ORDERS: ">"}, count=10)))

    # Producer: five fields, then capped with MAXLEN ~ 100000.
    ids = [r.xadd(ORDERS, order("ORD-2026-0042", "2500000"))]
    ids.append(r.xadd(ORDERS, {"orderId": "ORD-2026-0043", "amount": "1800000"},
                      maxlen=MAXLEN, approximate=True))
    for i in range(2, 12):
        amount = "n/a" if i == 4 else str(1000000 + i)
        ids.append(r.xadd(ORDERS, order("ORD-2026-%04d" % (100 + i), amount),
                          maxlen=MAXLEN, approximate=True))
    out["ids"] = ids

    # Consumer loop: read ten at a time, ack what processes.
    batches, acked, failed = [], 0, []
    while True:
        reply = r.xreadgroup(GROUP, me, {ORDERS: ">"}, count=10)
        batches.append(len(read_ids(reply)))
        if not reply:
            break
        for entry_id, fields in reply[0][1]:
            try:
                float(fields["amount"])
            except ValueError:
                failed.append(entry_id)
                continue
            acked += r.xack(ORDERS, GROUP, entry_id)
    out["batches"], out["acked"], out["failed"] = batches, acked, failed

    # Dead letter: too early to claim; then (time passes) pending for over
    # five minutes after four deliveries, so it moves.
    out["early_claim"] = len(r.xclaim(ORDERS, GROUP, me, CLAIM_IDLE, failed))
    time_machine(r, me, failed[0], DEAD_IDLE + 60000, DEAD_COUNT + 1)
    pending = r.xpending_range(ORDERS, GROUP, "-", "+", 20)
    out["pending"] = [[p["message_id"], p["consumer"], p["times_delivered"]]
                      for p in pending]
    out["pending_idle_ok"] = all(
        p["time_since_delivered"] > DEAD_IDLE for p in pending)
    moved = []
    for p in pending:
        if p["time_since_delivered"] > DEAD_IDLE and p["times_delivered"] > DEAD_COUNT:
            entry = r.xrange(ORDERS, p["message_id"], p["message_id"])
            if entry:
                r.xadd(DEAD, entry[0][1])
                r.xack(ORDERS, GROUP, p["message_id"])
                moved.append(p["message_id"])
    out["dead_moved"] = moved
    out["dead_entries"] = [[f["orderId"], len(f)] for _, f in r.xrange(DEAD)]

    # A crashed worker's entry is reclaimed with XCLAIM min-idle 60000.
    rid = r.xadd(ORDERS, order("ORD-2026-0500", "10"))
    assert read_ids(r.xreadgroup(GROUP, crashed, {ORDERS: ">"}, count=10)) == [rid]
    time_machine(r, crashed, rid, CLAIM_IDLE + 30000, 1)
    claimed = r.xclaim(ORDERS, GROUP, me, CLAIM_IDLE, [rid])
    [row] = r.xpending_range(ORDERS, GROUP, rid, rid, 1)
    out["reclaim"] = {"id": rid, "claimed": [i for i, _ in claimed],
                      "owner": row["consumer"], "count": row["times_delivered"]}
    r.xack(ORDERS, GROUP, rid)

    # XAUTOCLAIM takes the idle one of two.
    a1 = r.xadd(ORDERS, order("ORD-2026-0501", "11"))
    a2 = r.xadd(ORDERS, order("ORD-2026-0502", "12"))
    assert read_ids(r.xreadgroup(GROUP, crashed, {ORDERS: ">"}, count=10)) == [a1, a2]
    time_machine(r, crashed, a1, CLAIM_IDLE + 30000, 1)
    nxt, got, deleted = r.xautoclaim(ORDERS, GROUP, me, CLAIM_IDLE, "0-0", count=10)
    out["autoclaim"] = {"ids": [a1, a2], "claimed": [i for i, _ in got],
                        "next": nxt, "deleted": deleted}
    r.xack(ORDERS, GROUP, a1)

    # Monitoring.
    info = r.xinfo_stream(ORDERS)
    out["info_stream"] = {
        "length": info["length"],
        "entries_added": info["entries-added"],
        "groups": info["groups"],
        "last_generated_id": info["last-generated-id"],
        "first_entry": info["first-entry"][0],
        "last_entry": info["last-entry"][0],
        "last_entry_order": info["last-entry"][1]["orderId"],
    }
    out["info_groups"] = [
        {"name": g["name"], "consumers": g["consumers"], "pending": g["pending"],
         "last_delivered_id": g["last-delivered-id"],
         "entries_read": g["entries-read"], "lag": g["lag"]}
        for g in r.xinfo_groups(ORDERS)]
    out["info_consumers"] = sorted(
        [c["name"], c["pending"]] for c in r.xinfo_consumers(ORDERS, GROUP))
    out["trim"] = r.xtrim(ORDERS, maxlen=50000, approximate=True)
    out["xdel"] = r.xdel(ORDERS, ids[0])
    out["xlen"] = r.xlen(ORDERS)
    after = r.xinfo_stream(ORDERS)
    out["after_delete"] = {"first_entry": after["first-entry"][0],
                           "max_deleted": after["max-deleted-entry-id"]}

    # A blocked XREADGROUP is woken by another client's XADD.
    r.xgroup_create(PAYMENTS, NOTIFIERS, id="$", mkstream=True)
    result = {}

    def blocked_read():
        start = time.monotonic()
        result["reply"] = r.xreadgroup(NOTIFIERS, "worker-email",
                                       {PAYMENTS: ">"}, count=10, block=5000)
        result["ms"] = (time.monotonic() - start) * 1000

    reader = threading.Thread(target=blocked_read)
    reader.start()
    deadline = time.monotonic() + 5
    while blocked_clients(other) != 1:
        assert time.monotonic() < deadline, "the reader never blocked"
        time.sleep(0.005)
    added = other.xadd(PAYMENTS, {"orderId": "ORD-2026-0042", "status": "paid"})
    reader.join(10)
    assert not reader.is_alive(), "the blocked reader was not woken"
    start = time.monotonic()
    timed_out = r.xreadgroup(NOTIFIERS, "worker-sms", {PAYMENTS: ">"}, count=10, block=100)
    out["block"] = {
        "added": added, "woken": read_ids(result["reply"]),
        "ms": result["ms"],
        "timeout_entries": len(read_ids(timed_out)),
        "timeout_ms": (time.monotonic() - start) * 1000,
        "blocked_after": blocked_clients(other),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
