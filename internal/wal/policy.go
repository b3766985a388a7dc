package wal

import (
	"fmt"
	"strings"
)

// Policy is when the WAL fsyncs: Redis's appendfsync.
type Policy int32

const (
	// Always answers a write only once it is on stable storage. It is the
	// zero value, so a zero Options is the safe default.
	Always Policy = iota
	// EverySec answers a write once it is written to the kernel (a crash
	// of the process loses nothing) and syncs in the background about once
	// a second (a power loss loses at most about the last interval).
	EverySec
	// No answers a write once it is written to the kernel and never syncs
	// for time: only Close, Sync, a new segment and the memory bound
	// (Options.MaxUnsynced) do.
	No
)

// ParsePolicy parses an appendfsync value: "always", "everysec" or "no",
// in any case, as Redis compares config enums.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "always":
		return Always, nil
	case "everysec":
		return EverySec, nil
	case "no":
		return No, nil
	}
	return 0, fmt.Errorf("wal: unknown appendfsync policy %q (want always, everysec or no)", s)
}

// String returns the appendfsync spelling of p.
func (p Policy) String() string {
	switch p {
	case Always:
		return "always"
	case EverySec:
		return "everysec"
	case No:
		return "no"
	}
	return fmt.Sprintf("Policy(%d)", int32(p))
}
