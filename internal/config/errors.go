package config

import (
	"errors"
	"fmt"
)

// ReplyError is an error whose text is the exact Redis error reply, without
// the leading '-' and trailing CRLF, e.g. "ERR syntax error". The command
// layer can write it to the client as is.
type ReplyError struct {
	Msg string
}

func (e *ReplyError) Error() string { return e.Msg }

func replyErr(format string, args ...any) *ReplyError {
	return &ReplyError{Msg: fmt.Sprintf(format, args...)}
}

// redisVersion is the version named in loader errors, as Redis does.
const redisVersion = "7.0.15"

// LoadError describes a configuration error found by Load, LoadFile or
// ParseArgs. Error() renders it on one line in the style of redis-server's
// "*** FATAL CONFIG FILE ERROR ***" report.
type LoadError struct {
	File string // file name, or "(command line)"
	Line int    // 1-based line number; 0 when not tied to a line
	Text string // the offending line, trimmed
	Msg  string // Redis's reason, e.g. "Bad directive or wrong number of arguments"
}

func (e *LoadError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("*** FATAL CONFIG FILE ERROR (Redis %s) *** %s: %s", redisVersion, e.File, e.Msg)
	}
	return fmt.Sprintf("*** FATAL CONFIG FILE ERROR (Redis %s) *** Reading the configuration file %s, at line %d >>> '%s' %s",
		redisVersion, e.File, e.Line, e.Text, e.Msg)
}

// ErrHelp and ErrVersion are returned by ParseArgs for -h/--help and
// -v/--version, which redis-server handles before any configuration.
var (
	ErrHelp    = errors.New("config: help requested")
	ErrVersion = errors.New("config: version requested")
)
