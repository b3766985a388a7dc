package command

// Metadata of the commands Runnel implements that Redis 7.0 lacks, written
// by hand from the Redis 7.2 command definitions (src/commands/*.json of
// Redis 7.2: client-setinfo.json, client-no-touch.json) and laid out as
// Redis 7.0 emits COMMAND INFO and COMMAND DOCS. An entry here takes
// precedence over the generated one.
var extraDocs = map[string]*cmdMeta{
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
