package command

// Key extraction for COMMAND GETKEYS and GETKEYSANDFLAGS from the key
// specifications of the metadata, as Redis 7.0's getKeysUsingKeySpecs and
// getKeysFromCommandWithSpecs. Where Redis falls back to a command's own
// getkeys function (incomplete specs, variable flags), Runnel uses the
// command's Keys function or key positions.

// keySpec is one parsed key specification.
type keySpec struct {
	flags                             docNode // the flag set, as COMMAND INFO and GETKEYSANDFLAGS show it
	notKey, incomplete, variableFlags bool

	bsType    string // "index", "keyword" or "unknown"
	index     int    // bsType index
	keyword   string // bsType keyword
	startFrom int

	fkType              string // "range", "keynum" or "unknown"
	keyStep             int    // both kinds
	lastKey, limit      int    // fkType range
	keyNumIdx, firstKey int    // fkType keynum
}

// keyRef is one key found in a command line: its position and flags.
type keyRef struct {
	pos   int
	flags docNode
}

// keySpecsOf parses c's key specifications.
func keySpecsOf(c *Command) []keySpec {
	m := metaFor(c.Name)
	if m == nil {
		return nil
	}
	var specs []keySpec
	for _, n := range m.info.elems[8].elems {
		var s keySpec
		s.flags, _ = n.field("flags")
		for _, f := range s.flags.elems {
			switch f.str {
			case "not_key":
				s.notKey = true
			case "incomplete":
				s.incomplete = true
			case "variable_flags":
				s.variableFlags = true
			}
		}
		bs, _ := n.field("begin_search")
		s.bsType = fieldStr(bs, "type")
		bsSpec, _ := bs.field("spec")
		s.index = fieldInt(bsSpec, "index")
		s.keyword = fieldStr(bsSpec, "keyword")
		s.startFrom = fieldInt(bsSpec, "startfrom")
		fk, _ := n.field("find_keys")
		s.fkType = fieldStr(fk, "type")
		fkSpec, _ := fk.field("spec")
		s.lastKey = fieldInt(fkSpec, "lastkey")
		s.keyStep = fieldInt(fkSpec, "keystep")
		s.limit = fieldInt(fkSpec, "limit")
		s.keyNumIdx = fieldInt(fkSpec, "keynumidx")
		s.firstKey = fieldInt(fkSpec, "firstkey")
		specs = append(specs, s)
	}
	return specs
}

func fieldStr(n docNode, key string) string {
	v, _ := n.field(key)
	return v.str
}

func fieldInt(n docNode, key string) int {
	v, _ := n.field(key)
	return int(v.num)
}

// commandHasKeys is Redis's doesCommandHaveKeys: a getkeys function (for
// Runnel, a Keys function) or a key spec that is a real key.
func commandHasKeys(c *Command, specs []keySpec) bool {
	if c.Keys != nil {
		return true
	}
	for _, s := range specs {
		if !s.notKey {
			return true
		}
	}
	return metaFor(c.Name) == nil && c.FirstKey > 0
}

// keysOf finds the keys of the command line args (args[0] is the command
// name), as Redis's getKeysFromCommandWithSpecs.
func keysOf(c *Command, specs []keySpec, args [][]byte) []keyRef {
	hasKeySpec, varFlags := false, false
	for _, s := range specs {
		hasKeySpec = hasKeySpec || !s.notKey
		varFlags = varFlags || s.variableFlags
	}
	if hasKeySpec && !varFlags {
		if keys, ok := keysFromSpecs(specs, args, false); ok {
			return keys
		}
	}
	if fn := getkeysProcs[c.Name]; fn != nil {
		return fn(args)
	}
	if c.Keys == nil && c.FirstKey <= 0 {
		return nil
	}
	// The command's own key finder, standing in for Redis's getkeys
	// function; a key's flags are those of the spec that finds its
	// position, else those of the first spec that cannot be followed.
	found := c.keys(nil, args)
	partial, _ := keysFromSpecs(specs, args, true)
	var fallback docNode
	for _, s := range specs {
		if s.bsType == "unknown" || s.fkType == "unknown" || s.incomplete {
			fallback = s.flags
			break
		}
	}
	if fallback.kind == 0 && len(specs) > 0 {
		fallback = specs[0].flags
	}
	out := make([]keyRef, 0, len(found))
	for _, k := range found {
		pos := argIndex(args, k)
		if pos < 0 {
			continue
		}
		ref := keyRef{pos: pos, flags: fallback}
		for _, p := range partial {
			if p.pos == pos {
				ref.flags = p.flags
				break
			}
		}
		if ref.flags.kind == 0 {
			ref.flags = dSet()
		}
		out = append(out, ref)
	}
	return out
}

// argIndex finds the argument k is (by identity: Keys functions return
// arguments, not copies).
func argIndex(args [][]byte, k []byte) int {
	for i, a := range args {
		if len(a) == len(k) && (len(a) == 0 || &a[0] == &k[0]) {
			return i
		}
	}
	return -1
}

// keysFromSpecs is Redis's getKeysUsingKeySpecs. ok is false when a spec
// cannot be followed (unknown, incomplete, or out of the arguments); with
// partial set such specs are skipped instead.
func keysFromSpecs(specs []keySpec, args [][]byte, partial bool) (keys []keyRef, ok bool) {
	argc := len(args)
	for _, s := range specs {
		if s.notKey {
			continue
		}
		first := 0
		switch s.bsType {
		case "index":
			first = s.index
		case "keyword":
			start, end := s.startFrom, argc-1
			if s.startFrom <= 0 {
				start, end = argc+s.startFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if equalFold(args[i], s.keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue // keyword not found
			}
		default:
			if partial {
				continue
			}
			return nil, false
		}
		var last, step int
		switch s.fkType {
		case "range":
			step = s.keyStep
			switch {
			case s.lastKey >= 0:
				last = first + s.lastKey
			case s.limit == 0:
				last = argc + s.lastKey
			default:
				last = first + ((argc-first)/s.limit + s.lastKey)
			}
		case "keynum":
			step = s.keyStep
			idx := first + s.keyNumIdx
			if s.keyNumIdx >= argc || idx >= argc {
				if partial {
					continue
				}
				return nil, false
			}
			n, valid := parseInt(args[idx])
			if !valid || n < 0 || n > int64(argc) {
				if partial {
					continue
				}
				return nil, false
			}
			first += s.firstKey
			last = first + int(n) - 1
		default:
			if partial {
				continue
			}
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			if partial {
				continue
			}
			return nil, false
		}
		for i := first; i <= last; i += max(step, 1) {
			keys = append(keys, keyRef{pos: i, flags: s.flags})
		}
		if s.incomplete && !partial {
			return nil, false
		}
	}
	return keys, true
}

// Key flag sets, as GETKEYSANDFLAGS shows them.
var (
	keyFlagsOWUpdate       = dSet(dS("OW"), dS("update"))
	keyFlagsRWAccessUpdate = dSet(dS("RW"), dS("access"), dS("update"))
	keyFlagsROAccess       = dSet(dS("RO"), dS("access"))
)

// getkeysProcs are Redis's getkeys functions for the commands whose key
// spec has variable flags: the flags depend on the arguments.
var getkeysProcs = map[string]func(args [][]byte) []keyRef{
	// setGetKeys: SET ... GET reads the key too.
	"set": func(args [][]byte) []keyRef {
		for _, a := range args[min(3, len(args)):] {
			if equalFold(a, "get") {
				return []keyRef{{pos: 1, flags: keyFlagsRWAccessUpdate}}
			}
		}
		return []keyRef{{pos: 1, flags: keyFlagsOWUpdate}}
	},
	// bitfieldGetKeys: read-only unless a SET or INCRBY (or a syntax
	// error) comes first.
	"bitfield": func(args [][]byte) []keyRef {
		readonly := true
	loop:
		for i := 2; i < len(args); i++ {
			rem := len(args) - i - 1
			switch {
			case equalFold(args[i], "get") && rem >= 2:
				i += 2
			case (equalFold(args[i], "set") || equalFold(args[i], "incrby")) && rem >= 3:
				readonly = false
				break loop
			case equalFold(args[i], "overflow") && rem >= 1:
				i++
			default:
				readonly = false
				break loop
			}
		}
		if readonly {
			return []keyRef{{pos: 1, flags: keyFlagsROAccess}}
		}
		return []keyRef{{pos: 1, flags: keyFlagsRWAccessUpdate}}
	},
}
