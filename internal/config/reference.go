package config

import (
	"sort"
	"strconv"
)

// ParamDoc documents one parameter, for generating or checking the README.
type ParamDoc struct {
	Name    string
	Alias   string   // "" when none
	Type    string   // bool, integer, memory, memory or percent, octal, enum, string, or a special's shape
	Values  []string // enum choices
	Min     string   // integer bounds, as CONFIG SET reports them
	Max     string
	Default string // as CONFIG GET prints it (dir: the configured, relative default)
	Mutable bool   // can be changed with CONFIG SET
	Ignored bool   // accepted and stored, but Runnel does not act on it
	Hidden  bool   // not matched by CONFIG GET patterns
	Doc     string // one line
}

// Reference returns the documentation of every parameter, sorted by name.
func Reference() []ParamDoc {
	out := make([]ParamDoc, 0, len(params))
	for _, p := range params {
		d := ParamDoc{
			Name:    p.name,
			Alias:   p.alias,
			Mutable: p.flags&immutable == 0,
			Ignored: p.flags&ignored != 0,
			Hidden:  p.flags&hidden != 0,
			Doc:     p.doc,
		}
		switch p.kind {
		case kindBool:
			d.Type, d.Values = "bool", []string{"yes", "no"}
		case kindInt:
			d.Type = "integer"
			switch {
			case p.num&numPercent != 0:
				d.Type = "memory or percent"
			case p.num&numMemory != 0:
				d.Type = "memory"
			case p.num&numOctal != 0:
				d.Type = "octal"
			}
			if p.unsigned {
				d.Min, d.Max = strconv.FormatUint(uint64(p.min), 10), strconv.FormatUint(uint64(p.max), 10)
			} else {
				d.Min, d.Max = strconv.FormatInt(p.min, 10), strconv.FormatInt(p.max, 10)
			}
		case kindEnum:
			d.Type = "enum"
			if p.flags&multiArg != 0 {
				d.Type = "enum set"
			}
			for _, it := range p.enum {
				d.Values = append(d.Values, it.name)
			}
		case kindString:
			d.Type = "string"
		case kindSpecial:
			d.Type = p.sp.typ
		}
		if p.sp != nil {
			d.Default = p.sp.defDoc
		} else {
			d.Default = p.format(p.def)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
