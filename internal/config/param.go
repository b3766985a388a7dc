package config

import (
	"math"
	"strconv"
	"strings"
)

// kind is how a parameter's value is parsed, stored and printed.
type kind uint8

const (
	kindBool    kind = iota // yes/no; stored as int64 0/1
	kindInt                 // integer or memory size; stored as int64
	kindEnum                // one name (or a set of flag names); stored as int64
	kindString              // free text; stored as string
	kindSpecial             // structured value with its own ops (save, bind, ...)
)

// pflag are the Redis config flags that matter to Runnel.
type pflag uint16

const (
	immutable   pflag = 1 << iota // CONFIG SET refuses it
	protected                     // CONFIG SET needs enable-protected-configs
	hidden                        // not matched by CONFIG GET patterns
	multiArg                      // value is a list of arguments
	denyLoading                   // CONFIG SET refuses it while loading data
	sensitive                     // value must be redacted from logs/slowlog
	ignored                       // accepted and stored; Runnel does not act on it
)

// numFlag is the syntax of an integer parameter's value.
type numFlag uint8

const (
	numMemory  numFlag = 1 << iota // accepts memtoull units (1k, 5mb, ...)
	numPercent                     // also accepts N% (stored as -N)
	numOctal                       // parsed and printed in base 8
)

type enumItem struct {
	name string
	val  int64
}

// specialOps implement a kindSpecial parameter. parse gets the current
// value (some parameters update it partially) and whether it is called
// while reading a configuration file, where "save" lines accumulate.
type specialOps struct {
	def     func() any
	defDoc  string
	typ     string
	parse   func(c *Config, args []string, cur any, reading bool) (any, string)
	format  func(v any) string
	rewrite func(st *rewriteState, name string, v any)
}

// param is one row of the parameter table.
type param struct {
	name  string
	alias string
	kind  kind
	flags pflag
	doc   string

	num      numFlag // kindInt
	unsigned bool    // kindInt: bounds compared as unsigned (C unsigned types)
	min, max int64   // kindInt bounds; unsigned ones hold the bit pattern

	enum []enumItem // kindEnum; with multiArg it is a set of bit flags

	nullable bool // kindString: "" means NULL (no value), as EMPTY_STRING_IS_NULL
	binary   bool // kindString: an sds value, NUL bytes are kept

	def   any // int64 for scalars, string for strings; specials use sp.def
	check func(c *Config, v any) string
	sp    *specialOps

	idx int // position in params
}

func (p *param) scalar() bool { return p.kind <= kindEnum }

func newP(k kind, name, alias string, f pflag, def any, doc string) *param {
	return &param{name: name, alias: alias, kind: k, flags: f, def: def, doc: doc}
}

func boolP(name, alias string, f pflag, def bool, doc string) *param {
	var d int64
	if def {
		d = 1
	}
	return newP(kindBool, name, alias, f, d, doc)
}

// intP is a signed integer (C int, long, long long, ssize_t, off_t, time_t,
// and unsigned long, which Redis bounds-checks as signed).
func intP(name, alias string, f pflag, min, max, def int64, doc string) *param {
	p := newP(kindInt, name, alias, f, def, doc)
	p.min, p.max = min, max
	return p
}

// uintP is an integer of a C unsigned type (unsigned int, size_t,
// unsigned long long): a negative input wraps and fails the bounds check.
func uintP(name, alias string, f pflag, min, max, def int64, doc string) *param {
	p := intP(name, alias, f, min, max, def, doc)
	p.unsigned = true
	return p
}

func (p *param) memory() *param  { p.num |= numMemory; return p }
func (p *param) percent() *param { p.num |= numPercent; return p }
func (p *param) octal() *param   { p.num |= numOctal; return p }
func (p *param) withCheck(fn func(c *Config, v any) string) *param {
	p.check = fn
	return p
}

// enumP is an enum; def names the default item.
func enumP(name, alias string, f pflag, items []enumItem, def string, doc string) *param {
	p := newP(kindEnum, name, alias, f, nil, doc)
	p.enum = items
	for _, it := range items {
		if it.name == def {
			p.def = it.val
			return p
		}
	}
	panic("config: bad enum default for " + name)
}

// strP is a string parameter. nullable strings treat "" as "not set".
func strP(name, alias string, f pflag, nullable bool, def string, doc string) *param {
	p := newP(kindString, name, alias, f, def, doc)
	p.nullable = nullable
	return p
}

// sdsP is a binary-safe string parameter (Redis SDS config).
func sdsP(name, alias string, f pflag, nullable bool, def string, doc string) *param {
	p := strP(name, alias, f, nullable, def, doc)
	p.binary = true
	return p
}

func specialP(name, alias string, f pflag, ops *specialOps, doc string) *param {
	p := newP(kindSpecial, name, alias, f, nil, doc)
	p.sp = ops
	return p
}

func (p *param) defaultValue() any {
	if p.sp != nil {
		return p.sp.def()
	}
	return p.def
}

// parse validates args (already split) and returns the new value, or the
// Redis error text. cur is the current value.
func (c *Config) parse(p *param, args []string, cur any, reading bool) (any, string) {
	var v any
	switch p.kind {
	case kindBool:
		yn := yesno(args[0])
		if yn < 0 {
			return nil, "argument must be 'yes' or 'no'"
		}
		v = int64(yn)
	case kindInt:
		n, es := p.parseNumber(args[0])
		if es != "" {
			return nil, es
		}
		if es := p.boundsCheck(n); es != "" {
			return nil, es
		}
		if p.name == "hz" { // updateHZ: out of range values are clamped
			n = min(max(n, 1), 500)
		}
		v = n
	case kindEnum:
		n, ok := p.enumValue(args)
		if !ok {
			return nil, p.enumError()
		}
		v = n
	case kindString:
		v = args[0]
		if !p.binary {
			// Plain C strings: a NUL byte ends the value.
			v = cstr(args[0])
		}
	case kindSpecial:
		return p.sp.parse(c, args, cur, reading)
	}
	if p.check != nil {
		if es := p.check(c, v); es != "" {
			return nil, es
		}
	}
	return v, ""
}

// parseNumber is numericParseString.
func (p *param) parseNumber(s string) (int64, string) {
	if p.num&numMemory != 0 {
		if n, ok := memtoull(s); ok {
			return int64(n), ""
		}
	}
	if p.num&numPercent != 0 && len(s) > 1 && s[len(s)-1] == '%' {
		if n, ok := string2ll(s[:len(s)-1]); ok && n >= 0 {
			return -n, "" // percentages are stored negated
		}
	}
	if p.num&numOctal != 0 {
		if n, end, erange := strtoll(s, 8); end && !erange {
			return n, ""
		}
	}
	if p.num == 0 {
		if n, ok := string2ll(s); ok {
			return n, ""
		}
	}
	switch {
	case p.num&numMemory != 0 && p.num&numPercent != 0:
		return 0, "argument must be a memory or percent value"
	case p.num&numMemory != 0:
		return 0, "argument must be a memory value"
	case p.num&numOctal != 0:
		return 0, "argument couldn't be parsed as an octal number"
	}
	return 0, "argument couldn't be parsed into an integer"
}

// boundsCheck is numericBoundaryCheck, including its messages.
func (p *param) boundsCheck(n int64) string {
	if p.unsigned {
		u, lo, hi := uint64(n), uint64(p.min), uint64(p.max)
		if u > hi || u < lo {
			if p.num&numOctal != 0 {
				return "argument must be between " + strconv.FormatUint(lo, 8) + " and " + strconv.FormatUint(hi, 8) + " inclusive"
			}
			return "argument must be between " + strconv.FormatUint(lo, 10) + " and " + strconv.FormatUint(hi, 10) + " inclusive"
		}
		return ""
	}
	if p.num&numPercent != 0 && n < 0 {
		if n < p.min {
			return "percentage argument must be less or equal to " + strconv.FormatInt(-p.min, 10)
		}
		return ""
	}
	if n > p.max || n < p.min {
		return "argument must be between " + strconv.FormatInt(p.min, 10) + " and " + strconv.FormatInt(p.max, 10) + " inclusive"
	}
	return ""
}

// enumValue is configEnumGetValue.
func (p *param) enumValue(args []string) (int64, bool) {
	bitflags := p.flags&multiArg != 0
	if len(args) == 0 || (!bitflags && len(args) != 1) {
		return 0, false
	}
	var v int64
	for _, a := range args {
		matched := false
		for _, it := range p.enum {
			if strcasecmpEq(a, it.name) {
				v |= it.val
				matched = true
			}
		}
		if !matched {
			return 0, false
		}
	}
	return v, true
}

func (p *param) enumError() string {
	names := make([]string, len(p.enum))
	for i, it := range p.enum {
		names[i] = it.name
	}
	msg := "argument(s) must be one of the following: " + strings.Join(names, ", ")
	if len(msg) > 255 { // Redis copies it into a 256 byte buffer
		msg = msg[:255]
	}
	return msg
}

// enumName is configEnumGetName.
func (p *param) enumName(v int64) string {
	bitflags := p.flags&multiArg != 0
	var names []string
	unmatched := v
	for _, it := range p.enum {
		if v == it.val {
			return it.name
		}
		if bitflags && it.val != 0 && it.val == unmatched&it.val {
			names = append(names, it.name)
			unmatched &^= it.val
		}
	}
	if len(names) == 0 || unmatched != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

// format renders a value the way CONFIG GET prints it.
func (p *param) format(v any) string {
	switch p.kind {
	case kindBool:
		if v.(int64) != 0 {
			return "yes"
		}
		return "no"
	case kindInt:
		n := v.(int64)
		switch {
		case p.num&numPercent != 0 && n < 0:
			return strconv.FormatInt(-n, 10) + "%"
		case p.num&numMemory != 0:
			return strconv.FormatUint(uint64(n), 10)
		case p.num&numOctal != 0:
			return strconv.FormatUint(uint64(n), 8)
		}
		return strconv.FormatInt(n, 10)
	case kindEnum:
		return p.enumName(v.(int64))
	case kindString:
		return v.(string)
	}
	return p.sp.format(v)
}

// Bounds used by the table, named as in C.
const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	llongMax = math.MaxInt64
	ullMax   = -1 // ULLONG_MAX as the bit pattern of an int64
)
