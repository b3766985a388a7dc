package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Structured ("special") parameters. Each mirrors Redis's set/get/rewrite
// functions for it in config.c, including error texts and output format.

// SavePoint is one "save <seconds> <changes>" snapshot rule.
type SavePoint struct {
	Seconds int64
	Changes int
}

// ClientClass indexes client-output-buffer-limit.
type ClientClass int

const (
	ClassNormal  ClientClass = 0
	ClassReplica ClientClass = 1 // "slave" or "replica"
	ClassPubSub  ClientClass = 2
)

var classNames = [3]string{"normal", "slave", "pubsub"}

// OutputBufferLimit is one class of client-output-buffer-limit. A client
// is disconnected when its output buffer exceeds Hard bytes, or stays above
// Soft bytes for SoftSeconds seconds. Zero means no limit.
type OutputBufferLimit struct {
	Hard, Soft  uint64
	SoftSeconds int64
}

var defaultOBL = [3]OutputBufferLimit{
	{0, 0, 0},
	{256 << 20, 64 << 20, 60},
	{32 << 20, 8 << 20, 60},
}

// ReplicaOf is the value of replicaof; an empty Host means "no one".
type ReplicaOf struct {
	Host string
	Port int
}

// defaultBind is Runnel's default: loopback only ("-" marks an address
// whose bind failure is not fatal, e.g. when IPv6 is off).
var defaultBind = []string{"127.0.0.1", "-::1"}

const defaultDir = "./data"

// errnoText renders an OS error the way strerror does ("No such file or
// directory"); Go's errno strings are glibc's, lower-cased.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	return err.Error()
}

var dirOps = &specialOps{
	typ:    "path",
	defDoc: defaultDir,
	def: func() any {
		if abs, err := filepath.Abs(defaultDir); err == nil {
			return abs
		}
		return defaultDir
	},
	// Redis chdir()s here; Runnel keeps the process directory and stores
	// the absolute path instead, but validates as chdir would. At startup
	// (reading) a missing directory is accepted: the server creates it,
	// so `runnel --dir D` works on a fresh machine.
	parse: func(_ *Config, args []string, _ any, reading bool) (any, string) {
		if len(args) != 1 {
			return nil, "wrong number of arguments"
		}
		d := cstr(args[0])
		fi, err := os.Stat(d)
		if d == "" {
			err = syscall.ENOENT
		}
		if err != nil && !(reading && d != "" && errors.Is(err, os.ErrNotExist)) {
			return nil, errnoText(err)
		}
		if err == nil && !fi.IsDir() {
			return nil, errnoText(syscall.ENOTDIR)
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, errnoText(err)
		}
		return abs, ""
	},
	format: func(v any) string { return v.(string) },
	rewrite: func(st *rewriteState, name string, v any) {
		st.rewriteLine(name, name+" "+repr(v.(string)), true)
	},
}

var saveOps = &specialOps{
	typ:    "save points",
	defDoc: "",
	def:    func() any { return []SavePoint{} },
	parse: func(c *Config, args []string, cur any, reading bool) (any, string) {
		reset := len(args) == 1 && cstr(args[0]) == ""
		if reset {
			args = nil
		}
		if len(args)%2 == 1 {
			return nil, "Invalid save parameters"
		}
		var pts []SavePoint
		for j, a := range args {
			v, end, _ := strtoll(a, 10)
			if !end || (j%2 == 0 && v < 1) || (j%2 == 1 && v < 0) {
				return nil, "Invalid save parameters"
			}
			if j%2 == 0 {
				pts = append(pts, SavePoint{Seconds: v})
			} else {
				pts[len(pts)-1].Changes = int(int32(v)) // stored in a C int
			}
		}
		// While reading a config file, the first save line replaces the
		// defaults and later ones add to it.
		if reading && c.saveLoaded && !reset {
			return append(slices.Clone(cur.([]SavePoint)), pts...), ""
		}
		if pts == nil {
			pts = []SavePoint{}
		}
		return pts, ""
	},
	format: func(v any) string {
		var parts []string
		for _, p := range v.([]SavePoint) {
			parts = append(parts, strconv.FormatInt(p.Seconds, 10)+" "+strconv.Itoa(p.Changes))
		}
		return strings.Join(parts, " ")
	},
	rewrite: func(st *rewriteState, name string, v any) {
		pts := v.([]SavePoint)
		if len(pts) == 0 {
			st.rewriteLine(name, `save ""`, true)
		}
		for _, p := range pts {
			st.rewriteLine(name, "save "+strconv.FormatInt(p.Seconds, 10)+" "+strconv.Itoa(p.Changes), true)
		}
		st.markProcessed(name)
	},
}

func classByName(s string) int {
	switch {
	case strcasecmpEq(s, "normal"):
		return int(ClassNormal)
	case strcasecmpEq(s, "slave"), strcasecmpEq(s, "replica"):
		return int(ClassReplica)
	case strcasecmpEq(s, "pubsub"):
		return int(ClassPubSub)
	case strcasecmpEq(s, "master"):
		return 3
	}
	return -1
}

var coblOps = &specialOps{
	typ:    "client limits",
	defDoc: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
	def:    func() any { return defaultOBL },
	parse: func(_ *Config, args []string, cur any, _ bool) (any, string) {
		if len(args)%4 != 0 {
			return nil, "Wrong number of arguments in buffer limit configuration."
		}
		v := cur.([3]OutputBufferLimit)
		for j := 0; j < len(args); j += 4 {
			class := classByName(args[j])
			if class < 0 || class == 3 {
				return nil, "Invalid client class specified in buffer limit configuration."
			}
			hard, okh := memtoull(args[j+1])
			soft, oks := memtoull(args[j+2])
			secs, end, _ := strtoll(args[j+3], 10)
			secs = int64(int32(secs)) // stored in a C int before the check
			if !okh || !oks || secs < 0 || !end {
				return nil, "Error in hard, soft or soft_seconds setting in buffer limit configuration."
			}
			v[class] = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: secs}
		}
		return v, ""
	},
	format: func(v any) string {
		l := v.([3]OutputBufferLimit)
		parts := make([]string, 0, 3)
		for i, x := range l {
			parts = append(parts, classNames[i]+" "+strconv.FormatUint(x.Hard, 10)+" "+
				strconv.FormatUint(x.Soft, 10)+" "+strconv.FormatInt(x.SoftSeconds, 10))
		}
		return strings.Join(parts, " ")
	},
	rewrite: func(st *rewriteState, name string, v any) {
		for i, x := range v.([3]OutputBufferLimit) {
			class := classNames[i]
			if class == "slave" {
				class = "replica"
			}
			line := name + " " + class + " " + formatMemory(int64(x.Hard)) + " " +
				formatMemory(int64(x.Soft)) + " " + strconv.FormatInt(x.SoftSeconds, 10)
			st.rewriteLine(name, line, x != defaultOBL[i])
		}
	},
}

var oomValuesOps = &specialOps{
	typ:    "3 integers",
	defDoc: "0 200 800",
	def:    func() any { return [3]int{0, 200, 800} },
	parse: func(_ *Config, args []string, _ any, _ bool) (any, string) {
		if len(args) != 3 {
			return nil, "wrong number of arguments"
		}
		var v [3]int
		for i, a := range args {
			n, end, _ := strtoll(a, 10)
			if !end || n < -2000 || n > 2000 {
				return nil, "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
			}
			v[i] = int(n)
		}
		return v, ""
	},
	format: func(v any) string {
		a := v.([3]int)
		return strconv.Itoa(a[0]) + " " + strconv.Itoa(a[1]) + " " + strconv.Itoa(a[2])
	},
	rewrite: func(st *rewriteState, name string, v any) {
		a := v.([3]int)
		line := name + " " + strconv.Itoa(a[0]) + " " + strconv.Itoa(a[1]) + " " + strconv.Itoa(a[2])
		st.rewriteLine(name, line, a != [3]int{0, 200, 800})
	},
}

var notifyOps = &specialOps{
	typ:    "classes",
	defDoc: "",
	def:    func() any { return int64(0) },
	parse: func(_ *Config, args []string, _ any, _ bool) (any, string) {
		if len(args) != 1 {
			return nil, "wrong number of arguments"
		}
		f, ok := ParseNotifyFlags(args[0])
		if !ok {
			return nil, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		}
		return int64(f), ""
	},
	format: func(v any) string { return FormatNotifyFlags(int(v.(int64))) },
	rewrite: func(st *rewriteState, name string, v any) {
		f := int(v.(int64))
		st.rewriteLine(name, name+" "+repr(FormatNotifyFlags(f)), f != 0)
	},
}

var bindOps = &specialOps{
	typ:    "addresses",
	defDoc: strings.Join(defaultBind, " "),
	def:    func() any { return slices.Clone(defaultBind) },
	parse: func(_ *Config, args []string, _ any, _ bool) (any, string) {
		if len(args) > 16 {
			return nil, "Too many bind addresses specified."
		}
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		v := make([]string, len(args))
		for i, a := range args {
			v[i] = cstr(a)
			// An empty address would make the listener bind every
			// interface (and cannot be written back by CONFIG REWRITE):
			// Runnel refuses it, where Redis would accept it.
			if v[i] == "" || v[i] == "-" || strings.IndexFunc(v[i], func(r rune) bool { return r <= ' ' || r == '"' || r == '\'' || r == 0x7f }) >= 0 {
				return nil, "Invalid bind address '" + v[i] + "'"
			}
		}
		return v, ""
	},
	format: func(v any) string { return strings.Join(v.([]string), " ") },
	rewrite: func(st *rewriteState, name string, v any) {
		addrs := v.([]string)
		if slices.Equal(addrs, defaultBind) {
			st.markProcessed(name)
			return
		}
		line := name + " " + strings.Join(addrs, " ")
		if len(addrs) == 0 {
			line = name + ` ""`
		}
		st.rewriteLine(name, line, true)
	},
}

var replicaofOps = &specialOps{
	typ:    "host port",
	defDoc: "",
	def:    func() any { return ReplicaOf{} },
	parse: func(_ *Config, args []string, _ any, _ bool) (any, string) {
		if len(args) != 2 {
			return nil, "wrong number of arguments"
		}
		if strcasecmpEq(args[0], "no") && strcasecmpEq(args[1], "one") {
			return ReplicaOf{}, ""
		}
		port, end, _ := strtoll(args[1], 10)
		if port < 0 || port > 65535 || !end {
			return nil, "Invalid master port"
		}
		return ReplicaOf{Host: cstr(args[0]), Port: int(port)}, ""
	},
	format: func(v any) string {
		r := v.(ReplicaOf)
		if r.Host == "" {
			return ""
		}
		return r.Host + " " + strconv.Itoa(r.Port)
	},
	rewrite: func(st *rewriteState, name string, v any) {
		r := v.(ReplicaOf)
		if r.Host == "" || st.clusterEnabled {
			st.markProcessed(name)
			return
		}
		st.rewriteLine(name, name+" "+r.Host+" "+strconv.Itoa(r.Port), true)
	},
}

var percentilesOps = &specialOps{
	typ:    "percentiles",
	defDoc: "50 99 99.9",
	def:    func() any { return []float64{50, 99, 99.9} },
	parse: func(_ *Config, args []string, _ any, _ bool) (any, string) {
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		v := make([]float64, 0, len(args))
		for _, a := range args {
			f, ok := string2d(a)
			if !ok {
				return nil, "Invalid latency-tracking-info-percentiles parameters"
			}
			if f > 100 || f < 0 {
				return nil, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
			}
			v = append(v, f)
		}
		return v, ""
	},
	format: func(v any) string {
		var parts []string
		for _, f := range v.([]float64) {
			parts = append(parts, formatDouble(f))
		}
		return strings.Join(parts, " ")
	},
	rewrite: func(st *rewriteState, name string, v any) {
		line := name
		if fs := v.([]float64); len(fs) == 0 {
			line += ` ""`
		} else {
			for _, f := range fs {
				line += " " + formatDouble(f)
			}
		}
		st.rewriteLine(name, line, true)
	},
}
