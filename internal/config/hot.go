package config

import "slices"

// Typed accessors. Those for bool, integer and enum parameters, and for
// requirepass, notify-keyspace-events and client-output-buffer-limit, are
// lock-free (one atomic load) and meant for the per-command path. The
// others take a read lock.

// Parameters with typed accessors, resolved once in init.
var (
	pTimeout             *param
	pMaxClients          *param
	pProtoMaxBulkLen     *param
	pQueryBufLimit       *param
	pRequirePass         *param
	pAppendOnly          *param
	pAppendFsync         *param
	pNotify              *param
	pStreamNodeEntries   *param
	pStreamNodeBytes     *param
	pStreamIDMPDuration  *param
	pStreamIDMPMaxSize   *param
	pStreamMemoryBudget  *param
	pOutputBufferLimit   *param
	pMaxMemory           *param
	pMaxMemoryPolicy     *param
	pMaxMemorySamples    *param
	pPort                *param
	pDatabases           *param
	pTCPKeepAlive        *param
	pTCPBacklog          *param
	pHz                  *param
	pLogLevel            *param
	pProtectedMode       *param
	pSlowlogSlowerThan   *param
	pSlowlogMaxLen       *param
	pLatencyTracking     *param
	pLFULogFactor        *param
	pLFUDecayTime        *param
	pActiveExpireEffort  *param
	pBusyReplyThreshold  *param
	pEnableProtected     *param
	pEnableDebug         *param
	pHashMaxEntries      *param
	pHashMaxValue        *param
	pZsetMaxEntries      *param
	pZsetMaxValue        *param
	pSetMaxIntset        *param
	pListMaxListpackSize *param
	pListCompressDepth   *param
	pHllSparseMaxBytes   *param
	pUnixSocket          *param
	pDir                 *param
	pBind                *param
	pSave                *param
	pReplicaOf           *param
	pClusterEnabled      *param
	pPercentiles         *param
)

func resolveParams() {
	for _, r := range []struct {
		p    **param
		name string
	}{
		{&pTimeout, "timeout"},
		{&pMaxClients, "maxclients"},
		{&pProtoMaxBulkLen, "proto-max-bulk-len"},
		{&pQueryBufLimit, "client-query-buffer-limit"},
		{&pRequirePass, "requirepass"},
		{&pAppendOnly, "appendonly"},
		{&pAppendFsync, "appendfsync"},
		{&pNotify, "notify-keyspace-events"},
		{&pStreamNodeEntries, "stream-node-max-entries"},
		{&pStreamNodeBytes, "stream-node-max-bytes"},
		{&pStreamIDMPDuration, "stream-idmp-duration"},
		{&pStreamIDMPMaxSize, "stream-idmp-maxsize"},
		{&pStreamMemoryBudget, "stream-memory-budget"},
		{&pOutputBufferLimit, "client-output-buffer-limit"},
		{&pMaxMemory, "maxmemory"},
		{&pMaxMemoryPolicy, "maxmemory-policy"},
		{&pMaxMemorySamples, "maxmemory-samples"},
		{&pPort, "port"},
		{&pDatabases, "databases"},
		{&pTCPKeepAlive, "tcp-keepalive"},
		{&pTCPBacklog, "tcp-backlog"},
		{&pHz, "hz"},
		{&pLogLevel, "loglevel"},
		{&pProtectedMode, "protected-mode"},
		{&pSlowlogSlowerThan, "slowlog-log-slower-than"},
		{&pSlowlogMaxLen, "slowlog-max-len"},
		{&pLatencyTracking, "latency-tracking"},
		{&pLFULogFactor, "lfu-log-factor"},
		{&pLFUDecayTime, "lfu-decay-time"},
		{&pActiveExpireEffort, "active-expire-effort"},
		{&pBusyReplyThreshold, "busy-reply-threshold"},
		{&pEnableProtected, "enable-protected-configs"},
		{&pEnableDebug, "enable-debug-command"},
		{&pHashMaxEntries, "hash-max-listpack-entries"},
		{&pHashMaxValue, "hash-max-listpack-value"},
		{&pZsetMaxEntries, "zset-max-listpack-entries"},
		{&pZsetMaxValue, "zset-max-listpack-value"},
		{&pSetMaxIntset, "set-max-intset-entries"},
		{&pListMaxListpackSize, "list-max-listpack-size"},
		{&pListCompressDepth, "list-compress-depth"},
		{&pHllSparseMaxBytes, "hll-sparse-max-bytes"},
		{&pUnixSocket, "unixsocket"},
		{&pDir, "dir"},
		{&pBind, "bind"},
		{&pSave, "save"},
		{&pReplicaOf, "replicaof"},
		{&pClusterEnabled, "cluster-enabled"},
		{&pPercentiles, "latency-tracking-info-percentiles"},
	} {
		*r.p = mustParam(r.name)
	}
}

func (c *Config) i64(p *param) int64 { return c.scal[p.idx].Load() }

// Timeout is timeout: idle seconds before a client is closed (0: never).
func (c *Config) Timeout() int64 { return c.i64(pTimeout) }

// MaxClients is maxclients.
func (c *Config) MaxClients() int64 { return c.i64(pMaxClients) }

// ProtoMaxBulkLen is proto-max-bulk-len in bytes.
func (c *Config) ProtoMaxBulkLen() int64 { return c.i64(pProtoMaxBulkLen) }

// ClientQueryBufferLimit is client-query-buffer-limit in bytes.
func (c *Config) ClientQueryBufferLimit() int64 { return c.i64(pQueryBufLimit) }

// RequirePass is requirepass ("" when no password is required).
func (c *Config) RequirePass() string { return *c.pass.Load() }

// AppendOnly is appendonly.
func (c *Config) AppendOnly() bool { return c.i64(pAppendOnly) != 0 }

// AppendFsync is appendfsync.
func (c *Config) AppendFsync() FsyncPolicy { return FsyncPolicy(c.i64(pAppendFsync)) }

// NotifyKeyspaceEvents is notify-keyspace-events as Notify* flags.
func (c *Config) NotifyKeyspaceEvents() int { return int(c.i64(pNotify)) }

// StreamNodeMaxEntries is stream-node-max-entries (0: no limit).
func (c *Config) StreamNodeMaxEntries() int64 { return c.i64(pStreamNodeEntries) }

// StreamNodeMaxBytes is stream-node-max-bytes (0: no limit).
func (c *Config) StreamNodeMaxBytes() int64 { return c.i64(pStreamNodeBytes) }

// StreamIDMPDuration is stream-idmp-duration, in seconds (Redis 8.6).
func (c *Config) StreamIDMPDuration() int64 { return c.i64(pStreamIDMPDuration) }

// StreamIDMPMaxSize is stream-idmp-maxsize (Redis 8.6).
func (c *Config) StreamIDMPMaxSize() int64 { return c.i64(pStreamIDMPMaxSize) }

// StreamMemoryBudget is stream-memory-budget (Runnel): bytes of stream
// nodes kept in memory, 0 for no limit.
func (c *Config) StreamMemoryBudget() int64 { return c.i64(pStreamMemoryBudget) }

// ClientOutputBufferLimit is client-output-buffer-limit for one class.
func (c *Config) ClientOutputBufferLimit(class ClientClass) OutputBufferLimit {
	return c.obuf.Load()[class]
}

// MaxMemory is maxmemory in bytes (0: no limit).
func (c *Config) MaxMemory() uint64 { return uint64(c.i64(pMaxMemory)) }

// MaxMemoryPolicy is maxmemory-policy.
func (c *Config) MaxMemoryPolicy() EvictionPolicy { return EvictionPolicy(c.i64(pMaxMemoryPolicy)) }

// MaxMemorySamples is maxmemory-samples.
func (c *Config) MaxMemorySamples() int64 { return c.i64(pMaxMemorySamples) }

// Port is port (0: no TCP listener).
func (c *Config) Port() int { return int(c.i64(pPort)) }

// Databases is databases.
func (c *Config) Databases() int { return int(c.i64(pDatabases)) }

// TCPKeepAlive is tcp-keepalive in seconds (0: off).
func (c *Config) TCPKeepAlive() int64 { return c.i64(pTCPKeepAlive) }

// TCPBacklog is tcp-backlog.
func (c *Config) TCPBacklog() int { return int(c.i64(pTCPBacklog)) }

// Hz is hz, already clamped to 1..500.
func (c *Config) Hz() int { return int(c.i64(pHz)) }

// LogLevel is loglevel.
func (c *Config) LogLevel() LogLevel { return LogLevel(c.i64(pLogLevel)) }

// ProtectedMode is protected-mode.
func (c *Config) ProtectedMode() bool { return c.i64(pProtectedMode) != 0 }

// SlowlogLogSlowerThan is slowlog-log-slower-than in microseconds.
func (c *Config) SlowlogLogSlowerThan() int64 { return c.i64(pSlowlogSlowerThan) }

// SlowlogMaxLen is slowlog-max-len.
func (c *Config) SlowlogMaxLen() int64 { return c.i64(pSlowlogMaxLen) }

// LatencyTracking is latency-tracking.
func (c *Config) LatencyTracking() bool { return c.i64(pLatencyTracking) != 0 }

// LFULogFactor is lfu-log-factor.
func (c *Config) LFULogFactor() int64 { return c.i64(pLFULogFactor) }

// LFUDecayTime is lfu-decay-time in minutes.
func (c *Config) LFUDecayTime() int64 { return c.i64(pLFUDecayTime) }

// ActiveExpireEffort is active-expire-effort (1..10).
func (c *Config) ActiveExpireEffort() int64 { return c.i64(pActiveExpireEffort) }

// BusyReplyThreshold is busy-reply-threshold (alias lua-time-limit) in ms.
func (c *Config) BusyReplyThreshold() int64 { return c.i64(pBusyReplyThreshold) }

// EnableDebugCommand is enable-debug-command.
func (c *Config) EnableDebugCommand() ProtectedAction { return ProtectedAction(c.i64(pEnableDebug)) }

// HashMaxListpackEntries is hash-max-listpack-entries.
func (c *Config) HashMaxListpackEntries() int64 { return c.i64(pHashMaxEntries) }

// HashMaxListpackValue is hash-max-listpack-value in bytes.
func (c *Config) HashMaxListpackValue() int64 { return c.i64(pHashMaxValue) }

// ZsetMaxListpackEntries is zset-max-listpack-entries.
func (c *Config) ZsetMaxListpackEntries() int64 { return c.i64(pZsetMaxEntries) }

// ZsetMaxListpackValue is zset-max-listpack-value in bytes.
func (c *Config) ZsetMaxListpackValue() int64 { return c.i64(pZsetMaxValue) }

// SetMaxIntsetEntries is set-max-intset-entries.
func (c *Config) SetMaxIntsetEntries() int64 { return c.i64(pSetMaxIntset) }

// ListMaxListpackSize is list-max-listpack-size (negative: a size class).
func (c *Config) ListMaxListpackSize() int64 { return c.i64(pListMaxListpackSize) }

// ListCompressDepth is list-compress-depth.
func (c *Config) ListCompressDepth() int64 { return c.i64(pListCompressDepth) }

// HllSparseMaxBytes is hll-sparse-max-bytes.
func (c *Config) HllSparseMaxBytes() int64 { return c.i64(pHllSparseMaxBytes) }

// Int returns any bool (0/1), integer or enum parameter, lock-free.
// Memory sizes of unsigned C types come back as their bit pattern. It
// panics on unknown names and on string or structured parameters.
func (c *Config) Int(name string) int64 {
	p := mustParam(name)
	if !p.scalar() {
		panic("config: " + name + " is not a scalar parameter")
	}
	return c.i64(p)
}

// Bool returns a yes/no parameter, lock-free. It panics like Int.
func (c *Config) Bool(name string) bool { return c.Int(name) != 0 }

// String returns a string parameter ("" when unset). It panics on unknown
// names and non-string parameters.
func (c *Config) String(name string) string {
	p := mustParam(name)
	if p.kind != kindString {
		panic("config: " + name + " is not a string parameter")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.load(p).(string)
}

func (c *Config) special(p *param) any {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.load(p)
}

// Dir is the absolute path of dir. Runnel does not chdir into it:
// persistence code must join file names with it.
func (c *Config) Dir() string { return c.special(pDir).(string) }

// Bind returns the bind addresses; a leading '-' marks an address whose
// bind failure (EADDRNOTAVAIL, unsupported protocol) is not fatal.
func (c *Config) Bind() []string { return slices.Clone(c.special(pBind).([]string)) }

// Save returns the RDB save points (empty: snapshots disabled).
func (c *Config) Save() []SavePoint { return slices.Clone(c.special(pSave).([]SavePoint)) }

// ReplicaOfValue returns replicaof (empty Host: not a replica).
func (c *Config) ReplicaOfValue() ReplicaOf { return c.special(pReplicaOf).(ReplicaOf) }

// LatencyTrackingPercentiles returns latency-tracking-info-percentiles.
func (c *Config) LatencyTrackingPercentiles() []float64 {
	return slices.Clone(c.special(pPercentiles).([]float64))
}

// ConfigFile is the absolute path of the config file named on the command
// line ("" if none); CONFIG REWRITE writes it and INFO reports it.
func (c *Config) ConfigFile() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.configFile
}

// Renames returns the rename-command directives read by Load/ParseArgs.
func (c *Config) Renames() []Rename {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	return slices.Clone(c.renames)
}
