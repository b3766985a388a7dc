package command

// Metadata of the commands Runnel implements that Redis 7.0 lacks, written
// by hand from the Redis 7.2 command definitions (src/commands/*.json of
// Redis 7.2: client-setinfo.json, client-no-touch.json; Redis 8.2-8.8 for
// the stream commands: xdelex.json, xackdel.json, xcfgset.json, and the
// redis.io page of XNACK) and laid out as Redis 7.0 emits COMMAND INFO and
// COMMAND DOCS. An entry here takes precedence over the generated one.
var extraDocs = map[string]*cmdMeta{
	// XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id [id ...] (8.2).
	"xdelex": streamWriteMeta("xdelex", -5, "Deletes one or multiple entries from the stream.", "8.2.0",
		"O(1) for each single item to delete in the stream, regardless of the stream size.",
		refArgs(dM(dB("name"), dB("numids"), dB("type"), dB("integer"), dB("token"), dB("IDS")))...),
	// XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...] (8.2).
	"xackdel": streamWriteMeta("xackdel", -6, "Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.", "8.2.0",
		"O(1) for each entry ID processed.",
		append([]docNode{dM(dB("name"), dB("group"), dB("type"), dB("string"))},
			refArgs(dM(dB("name"), dB("numids"), dB("type"), dB("integer"), dB("token"), dB("IDS")))...)...),
	// XCFGSET key [IDMP-DURATION duration] [IDMP-MAXSIZE maxsize] (8.6).
	"xcfgset": streamWriteMeta("xcfgset", -2, "Sets the IDMP configuration parameters for a stream.", "8.6.0", "O(1)",
		dM(dB("name"), dB("duration"), dB("type"), dB("integer"), dB("token"), dB("IDMP-DURATION"), dB("flags"), dSet(dS("optional"))),
		dM(dB("name"), dB("maxsize"), dB("type"), dB("integer"), dB("token"), dB("IDMP-MAXSIZE"), dB("flags"), dSet(dS("optional")))),
	// XIDMPRECORD key pid iid stream-id (8.6.2, internal: AOF rewrite and
	// replication restore IDMP mappings with it).
	"xidmprecord": streamWriteMeta("xidmprecord", 5, "Records an IDMP mapping of a producer's idempotent ID to a stream entry.", "8.6.2", "O(1)",
		dM(dB("name"), dB("pid"), dB("type"), dB("string")),
		dM(dB("name"), dB("iid"), dB("type"), dB("string")),
		dM(dB("name"), dB("id"), dB("type"), dB("string"))),
	// XNACK key group <SILENT | FAIL | FATAL> IDS numids id [id ...]
	// [RETRYCOUNT count] [FORCE] (8.8).
	"xnack": streamWriteMeta("xnack", -7, "Negatively acknowledges pending entries, releasing them from their consumer.", "8.8.0",
		"O(1) for each entry ID processed.",
		dM(dB("name"), dB("group"), dB("type"), dB("string")),
		dM(dB("name"), dB("mode"), dB("type"), dB("oneof"), dB("arguments"), dA(
			dM(dB("name"), dB("silent"), dB("type"), dB("pure-token"), dB("token"), dB("SILENT")),
			dM(dB("name"), dB("fail"), dB("type"), dB("pure-token"), dB("token"), dB("FAIL")),
			dM(dB("name"), dB("fatal"), dB("type"), dB("pure-token"), dB("token"), dB("FATAL")),
		)),
		dM(dB("name"), dB("numids"), dB("type"), dB("integer"), dB("token"), dB("IDS")),
		dM(dB("name"), dB("id"), dB("type"), dB("string"), dB("flags"), dSet(dS("multiple"))),
		dM(dB("name"), dB("count"), dB("type"), dB("integer"), dB("token"), dB("RETRYCOUNT"), dB("flags"), dSet(dS("optional"))),
		dM(dB("name"), dB("force"), dB("type"), dB("pure-token"), dB("token"), dB("FORCE"), dB("flags"), dSet(dS("optional")))),
	// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (Redis 7.2,
	// redis.io/commands/client-setinfo).
	"client|setinfo": {
		info: dA(dB("client|setinfo"), dI(4), dSet(dS("noscript"), dS("loading"), dS("stale")), dI(0), dI(0), dI(0),
			dSet(dS("@slow"), dS("@connection")), dSet(), dA()),
		docs: dM(
			dB("summary"), dB("Sets information specific to the client or connection."),
			dB("since"), dB("7.2.0"),
			dB("group"), dB("connection"),
			dB("complexity"), dB("O(1)"),
			dB("arguments"), dA(
				dM(dB("name"), dB("attr"), dB("type"), dB("oneof"), dB("arguments"), dA(
					dM(dB("name"), dB("libname"), dB("type"), dB("string"), dB("token"), dB("lib-name")),
					dM(dB("name"), dB("libver"), dB("type"), dB("string"), dB("token"), dB("lib-ver")),
				)),
			),
		),
	},
	// CLIENT NO-TOUCH <ON | OFF> (Redis 7.2, redis.io/commands/client-no-touch).
	"client|no-touch": {
		info: dA(dB("client|no-touch"), dI(3), dSet(dS("noscript"), dS("loading"), dS("stale")), dI(0), dI(0), dI(0),
			dSet(dS("@slow"), dS("@connection")), dSet(), dA()),
		docs: dM(
			dB("summary"), dB("Controls whether commands sent by the client affect the LRU/LFU of accessed keys."),
			dB("since"), dB("7.2.0"),
			dB("group"), dB("connection"),
			dB("complexity"), dB("O(1)"),
			dB("arguments"), dA(
				dM(dB("name"), dB("enabled"), dB("type"), dB("oneof"), dB("arguments"), dA(
					dM(dB("name"), dB("on"), dB("type"), dB("pure-token"), dB("token"), dB("ON")),
					dM(dB("name"), dB("off"), dB("type"), dB("pure-token"), dB("token"), dB("OFF")),
				)),
			),
		),
	},
}

// streamWriteMeta is the metadata of a write, fast stream command with its
// key at position 1, as Redis's stream command definitions have it.
func streamWriteMeta(name string, arity int64, summary, since, complexity string, args ...docNode) *cmdMeta {
	return &cmdMeta{
		info: dA(dB(name), dI(arity), dSet(dS("write"), dS("fast")), dI(1), dI(1), dI(1),
			dSet(dS("@write"), dS("@stream"), dS("@fast")), dSet(),
			dSet(dM(
				dB("flags"), dSet(dS("RW"), dS("delete")),
				dB("begin_search"), dM(dB("type"), dB("index"), dB("spec"), dM(dB("index"), dI(1))),
				dB("find_keys"), dM(
					dB("type"), dB("range"),
					dB("spec"), dM(dB("lastkey"), dI(0), dB("keystep"), dI(1), dB("limit"), dI(0)),
				),
			))),
		docs: dM(
			dB("summary"), dB(summary),
			dB("since"), dB(since),
			dB("group"), dB("stream"),
			dB("complexity"), dB(complexity),
			dB("arguments"), dA(append([]docNode{dM(dB("name"), dB("key"), dB("type"), dB("key"), dB("key_spec_index"), dI(0))}, args...)...),
		),
	}
}

// refArgs are the "[KEEPREF | DELREF | ACKED] IDS numids id [id ...]"
// arguments of XDELEX and XACKDEL.
func refArgs(ids docNode) []docNode {
	return []docNode{
		dM(dB("name"), dB("condition"), dB("type"), dB("oneof"), dB("flags"), dSet(dS("optional")), dB("arguments"), dA(
			dM(dB("name"), dB("keepref"), dB("type"), dB("pure-token"), dB("token"), dB("KEEPREF")),
			dM(dB("name"), dB("delref"), dB("type"), dB("pure-token"), dB("token"), dB("DELREF")),
			dM(dB("name"), dB("acked"), dB("type"), dB("pure-token"), dB("token"), dB("ACKED")),
		)),
		dM(dB("name"), dB("ids"), dB("type"), dB("block"), dB("arguments"), dA(
			ids,
			dM(dB("name"), dB("id"), dB("type"), dB("string"), dB("flags"), dSet(dS("multiple"))),
		)),
	}
}
