package config

import "strings"

// Enum tables, in Redis's order (the order shows in error messages). The
// values of the enums with typed accessors are the exported constants.

// FsyncPolicy is the value of appendfsync.
type FsyncPolicy int

const (
	FsyncNo       FsyncPolicy = 0
	FsyncAlways   FsyncPolicy = 1
	FsyncEverysec FsyncPolicy = 2
)

var fsyncEnum = []enumItem{{"everysec", int64(FsyncEverysec)}, {"always", int64(FsyncAlways)}, {"no", int64(FsyncNo)}}

// LogLevel is the value of loglevel; higher is less verbose.
type LogLevel int

const (
	LogDebug LogLevel = iota
	LogVerbose
	LogNotice
	LogWarning
)

var loglevelEnum = []enumItem{{"debug", int64(LogDebug)}, {"verbose", int64(LogVerbose)}, {"notice", int64(LogNotice)}, {"warning", int64(LogWarning)}}

// EvictionPolicy is the value of maxmemory-policy.
type EvictionPolicy int

const (
	EvictVolatileLRU EvictionPolicy = iota
	EvictVolatileLFU
	EvictVolatileRandom
	EvictVolatileTTL
	EvictAllKeysLRU
	EvictAllKeysLFU
	EvictAllKeysRandom
	EvictNoEviction
)

var maxmemoryPolicyEnum = []enumItem{
	{"volatile-lru", int64(EvictVolatileLRU)}, {"volatile-lfu", int64(EvictVolatileLFU)},
	{"volatile-random", int64(EvictVolatileRandom)}, {"volatile-ttl", int64(EvictVolatileTTL)},
	{"allkeys-lru", int64(EvictAllKeysLRU)}, {"allkeys-lfu", int64(EvictAllKeysLFU)},
	{"allkeys-random", int64(EvictAllKeysRandom)}, {"noeviction", int64(EvictNoEviction)},
}

// ProtectedAction is the value of enable-protected-configs,
// enable-debug-command and enable-module-command.
type ProtectedAction int

const (
	AllowNo    ProtectedAction = 0
	AllowYes   ProtectedAction = 1
	AllowLocal ProtectedAction = 2 // only clients on loopback or a Unix socket
)

// Allowed reports whether a client (local: connected over loopback or a
// Unix socket) may perform the protected action.
func (a ProtectedAction) Allowed(local bool) bool {
	return a == AllowYes || (a == AllowLocal && local)
}

var protectedActionEnum = []enumItem{{"no", int64(AllowNo)}, {"yes", int64(AllowYes)}, {"local", int64(AllowLocal)}}

// Shutdown flags of shutdown-on-sigint and shutdown-on-sigterm (a set).
const (
	ShutdownSave   = 1
	ShutdownNoSave = 2
	ShutdownNow    = 4
	ShutdownForce  = 8
)

var shutdownEnum = []enumItem{{"default", 0}, {"save", ShutdownSave}, {"nosave", ShutdownNoSave}, {"now", ShutdownNow}, {"force", ShutdownForce}}

var (
	supervisedEnum     = []enumItem{{"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}}
	syslogFacilityEnum = []enumItem{{"user", 8}, {"local0", 128}, {"local1", 136}, {"local2", 144}, {"local3", 152},
		{"local4", 160}, {"local5", 168}, {"local6", 176}, {"local7", 184}}
	replDisklessLoadEnum    = []enumItem{{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}}
	oomScoreAdjEnum         = []enumItem{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}
	aclPubsubDefaultEnum    = []enumItem{{"allchannels", 1}, {"resetchannels", 0}}
	sanitizeDumpPayloadEnum = []enumItem{{"no", 0}, {"yes", 1}, {"clients", 2}}
	endpointTypeEnum        = []enumItem{{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}}
	propagationErrorEnum    = []enumItem{{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}}
	tlsAuthClientsEnum      = []enumItem{{"no", 0}, {"yes", 1}, {"optional", 2}}
)

// Validators (Redis's is_valid_fn), returning Redis's error text.

func validActiveDefrag(_ *Config, v any) string {
	if v.(int64) != 0 {
		return "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
	}
	return ""
}

func pathIsBaseName(s string) bool { return !strings.ContainsAny(s, `/\`) }

func validDBfilename(_ *Config, v any) string {
	if !pathIsBaseName(v.(string)) {
		return "dbfilename can't be a path, just a filename"
	}
	return ""
}

func validAOFfilename(_ *Config, v any) string {
	switch s := v.(string); {
	case s == "":
		return "appendfilename can't be empty"
	case !pathIsBaseName(s):
		return "appendfilename can't be a path, just a filename"
	}
	return ""
}

func validAOFdirname(_ *Config, v any) string {
	switch s := v.(string); {
	case s == "":
		return "appenddirname can't be empty"
	case !pathIsBaseName(s):
		return "appenddirname can't be a path, just a dirname"
	}
	return ""
}

func validShutdownFlags(_ *Config, v any) string {
	if n := v.(int64); n&ShutdownNoSave != 0 && n&ShutdownSave != 0 {
		return "shutdown options SAVE and NOSAVE can't be used simultaneously"
	}
	return ""
}

func validHostname(_ *Config, v any) string {
	s := v.(string)
	if len(s) >= 256 {
		return "Hostnames must be less than 256 characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "Hostnames may only contain alphanumeric characters, hyphens or dots"
		}
	}
	return ""
}

// validProcTitleTemplate expands the template like sdstemplate with an
// empty title; it must know every variable and not expand to blanks.
func validProcTitleTemplate(c *Config, v any) string {
	const bad = "template format is invalid or contains unknown variables"
	t, res := v.(string), ""
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			res += t
			break
		}
		res += t[:i]
		t = t[i+1:]
		if t == "" {
			return bad
		}
		if t[0] == '{' {
			res += "{"
			t = t[1:]
			continue
		}
		j := strings.IndexByte(t, '}')
		if j < 0 {
			return bad
		}
		switch t[:j] {
		case "title", "server-mode":
		case "listen-addr", "config-file", "port", "tls-port":
			res += "x" // never empty in Redis either
		case "unixsocket":
			res += c.load(pUnixSocket).(string) // callers hold setMu
		default:
			return bad
		}
		t = t[j+1:]
	}
	if strings.Trim(res, " ") == "" {
		return bad
	}
	return ""
}

// Keyspace notification classes, as Redis's NOTIFY_* flags.
const (
	NotifyKeyspace = 1 << 0  // K
	NotifyKeyevent = 1 << 1  // E
	NotifyGeneric  = 1 << 2  // g
	NotifyString   = 1 << 3  // $
	NotifyList     = 1 << 4  // l
	NotifySet      = 1 << 5  // s
	NotifyHash     = 1 << 6  // h
	NotifyZset     = 1 << 7  // z
	NotifyExpired  = 1 << 8  // x
	NotifyEvicted  = 1 << 9  // e
	NotifyStream   = 1 << 10 // t
	NotifyKeyMiss  = 1 << 11 // m (not part of A)
	NotifyLoaded   = 1 << 12 // module only
	NotifyModule   = 1 << 13 // d
	NotifyNew      = 1 << 14 // n (not part of A)
	NotifyAll      = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash | NotifyZset |
		NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule // A
)

// ParseNotifyFlags is keyspaceEventsStringToFlags; ok is false on an
// unknown class character.
func ParseNotifyFlags(classes string) (flags int, ok bool) {
	for _, c := range []byte(cstr(classes)) {
		switch c {
		case 'A':
			flags |= NotifyAll
		case 'g':
			flags |= NotifyGeneric
		case '$':
			flags |= NotifyString
		case 'l':
			flags |= NotifyList
		case 's':
			flags |= NotifySet
		case 'h':
			flags |= NotifyHash
		case 'z':
			flags |= NotifyZset
		case 'x':
			flags |= NotifyExpired
		case 'e':
			flags |= NotifyEvicted
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 't':
			flags |= NotifyStream
		case 'm':
			flags |= NotifyKeyMiss
		case 'd':
			flags |= NotifyModule
		case 'n':
			flags |= NotifyNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// FormatNotifyFlags is keyspaceEventsFlagsToString.
func FormatNotifyFlags(flags int) string {
	var b strings.Builder
	if flags&NotifyAll == NotifyAll {
		b.WriteByte('A')
	} else {
		for _, f := range []struct {
			bit int
			c   byte
		}{{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'}, {NotifyHash, 'h'},
			{NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'}, {NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'}} {
			if flags&f.bit != 0 {
				b.WriteByte(f.c)
			}
		}
	}
	if flags&NotifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if flags&NotifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if flags&NotifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String()
}
