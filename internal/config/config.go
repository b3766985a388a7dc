package config

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/runnel-io/runnel/internal/glob"
)

// entry is a name under which a parameter is known: its own name or its
// alias. Redis registers aliases as separate dictionary entries, which is
// visible in CONFIG GET/SET (see Set's duplicate check).
type entry struct {
	name string
	p    *param
}

var (
	byName  map[string]*entry // lower-case name or alias -> entry
	entries []*entry          // all names and aliases, sorted
)

func init() {
	byName = make(map[string]*entry, 2*len(params))
	for i, p := range params {
		p.idx = i
		for _, n := range []string{p.name, p.alias} {
			if n == "" {
				continue
			}
			if _, dup := byName[n]; dup || n != asciiLower(n) {
				panic("config: bad or duplicate parameter name " + n)
			}
			e := &entry{name: n, p: p}
			byName[n] = e
			entries = append(entries, e)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	resolveParams()
}

// lookup finds a parameter by name or alias, case-insensitively.
func lookup(name string) *entry { return byName[asciiLower(name)] }

func mustParam(name string) *param {
	e := lookup(name)
	if e == nil {
		panic("config: unknown parameter " + name)
	}
	return e.p
}

// Config holds the value of every parameter. See the package doc for the
// concurrency contract.
type Config struct {
	setMu sync.Mutex   // serialises writers; held while hooks run
	mu    sync.RWMutex // guards vals and configFile
	scal  []atomic.Int64
	vals  []any // strings and specials, indexed like params

	pass atomic.Pointer[string]               // requirepass, lock-free
	obuf atomic.Pointer[[3]OutputBufferLimit] // client-output-buffer-limit, lock-free

	hooks []*hook // guarded by setMu

	configFile string // absolute path given to ParseArgs, "" if none

	// Loader state (guarded by setMu), mirroring Redis's statics
	// reading_config_file and save_loaded.
	readingFile bool
	saveLoaded  bool
	renames     []Rename
}

// Rename is a "rename-command <from> <to>" directive; an empty To disables
// the command. The command table owner applies them at startup.
type Rename struct{ From, To string }

type hook struct {
	fn     func() error
	params map[*param]bool
}

// New returns a Config holding Runnel's defaults.
func New() *Config {
	c := &Config{scal: make([]atomic.Int64, len(params)), vals: make([]any, len(params))}
	for _, p := range params {
		c.store(p, p.defaultValue())
	}
	return c
}

// store sets a value. Callers hold mu for writing (or own c exclusively).
func (c *Config) store(p *param, v any) {
	if p.scalar() {
		c.scal[p.idx].Store(v.(int64))
		return
	}
	c.vals[p.idx] = v
	switch p {
	case pRequirePass:
		s := v.(string)
		c.pass.Store(&s)
	case pOutputBufferLimit:
		l := v.([3]OutputBufferLimit)
		c.obuf.Store(&l)
	case pNotify:
		c.scal[p.idx].Store(v.(int64)) // so NotifyKeyspaceEvents is lock-free
	}
}

// load returns a value. Callers hold mu (read) unless p is scalar.
func (c *Config) load(p *param) any {
	if p.scalar() {
		return c.scal[p.idx].Load()
	}
	return c.vals[p.idx]
}

// Pair is one name/value of a CONFIG GET reply.
type Pair struct {
	Name, Value string
}

// Get implements CONFIG GET <pattern> [<pattern> ...]. Arguments without
// glob characters are looked up exactly (case-insensitively; the reply
// echoes the spelling given, and hidden parameters are found), the others
// are matched case-insensitively against every name and alias. No name is
// returned twice. Pairs come in argument order, each pattern's matches
// sorted by name (Redis uses hash table order). Unknown names are skipped.
func (c *Config) Get(patterns ...string) []Pair {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Pair
	seen := map[string]bool{}
	for _, pat := range patterns {
		if !strings.ContainsAny(cstr(pat), "[*?") {
			key := asciiLower(pat)
			if e := byName[key]; e != nil && !seen[key] {
				seen[key] = true
				out = append(out, Pair{pat, e.p.format(c.load(e.p))})
			}
			continue
		}
		cp := cstr(pat) // stringmatch() takes a C string
		for _, e := range entries {
			if e.p.flags&hidden != 0 || seen[e.name] {
				continue
			}
			if glob.MatchString(cp, e.name, true) {
				seen[e.name] = true
				out = append(out, Pair{e.name, e.p.format(c.load(e.p))})
			}
		}
	}
	return out
}

// Value returns one parameter formatted as CONFIG GET prints it.
func (c *Config) Value(name string) (string, bool) {
	e := lookup(name)
	if e == nil {
		return "", false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return e.p.format(c.load(e.p)), true
}

// SetOptions describe the client issuing CONFIG SET.
type SetOptions struct {
	// Local is true for clients on a loopback address or a Unix socket;
	// enable-protected-configs "local" allows them to set protected
	// parameters (dir, dbfilename).
	Local bool
	// Loading is true while the server loads its dataset; parameters that
	// cannot change then (appendonly, dir, repl-diskless-load) are refused
	// with a LOADING error.
	Loading bool
}

// Set implements CONFIG SET <name> <value> [<name> <value> ...]: args are
// the arguments after "CONFIG SET". All values are validated before any is
// applied; then the on-change hooks of changed parameters run once each.
// If a hook fails every value is restored and the hooks run again. Errors
// are *ReplyError carrying Redis 7.0's exact reply text.
func (c *Config) Set(args []string, opt SetOptions) error {
	if len(args) < 2 {
		return replyErr("ERR wrong number of arguments for 'config|set' command")
	}
	if len(args)%2 == 1 {
		return replyErr("ERR syntax error")
	}
	n := len(args) / 2
	ents := make([]*entry, n)

	// Same checks and precedence as configSetCommand: the first unknown
	// name wins over everything that comes after it.
	var unknown, errName, errStr string
	invalid, denyLoad := false, false
	allowProtected := ProtectedAction(c.scal[pEnableProtected.idx].Load()).Allowed(opt.Local)
	for i := 0; i < n; i++ {
		name := args[2*i]
		e := lookup(name)
		if e == nil {
			if !invalid {
				unknown, invalid = name, true
			}
			continue
		}
		if invalid {
			continue
		}
		f := e.p.flags
		if f&immutable != 0 || (f&protected != 0 && !allowProtected) {
			errStr = "can't set protected config"
			if f&immutable != 0 {
				errStr = "can't set immutable config"
			}
			errName, invalid = name, true
			continue
		}
		if opt.Loading && f&denyLoading != 0 {
			denyLoad, invalid = true, true
			continue
		}
		// An alias is a different entry, so "slave-read-only x
		// replica-read-only y" is not a duplicate (the last one wins).
		if slices.Contains(ents[:i], e) {
			errStr, errName, invalid = "duplicate parameter", name, true
		}
		ents[i] = e
	}
	switch {
	case denyLoad:
		return replyErr("LOADING Redis is loading the dataset in memory")
	case unknown != "":
		return replyErr("ERR Unknown option or number of arguments for CONFIG SET - '%s'", unknown)
	case invalid:
		return setFailed(errName, errStr)
	}

	c.setMu.Lock()
	defer c.setMu.Unlock()

	// Validate everything against the current values. Holding setMu is
	// enough to read them: every writer holds it.
	newVals := make([]any, n)
	pending := map[*param]any{}
	for i, e := range ents {
		cur, ok := pending[e.p]
		if !ok {
			cur = c.load(e.p)
		}
		v := args[2*i+1]
		argv := []string{v}
		if e.p.flags&multiArg != 0 {
			argv = splitSpaces(v)
		}
		nv, es := c.parse(e.p, argv, cur, false)
		if es != "" {
			return setFailed(e.name, es)
		}
		newVals[i], pending[e.p] = nv, nv
	}

	old, changed := c.apply(ents, newVals)
	if err := c.runHooks(ents, changed); err != nil {
		c.mu.Lock()
		for p, v := range old {
			c.store(p, v)
		}
		c.mu.Unlock()
		c.runHooks(ents, changed) // let the owners re-apply the old values
		return err
	}
	return nil
}

func setFailed(name, msg string) *ReplyError {
	if msg == "" {
		return replyErr("ERR CONFIG SET failed (possibly related to argument '%s')", name)
	}
	return replyErr("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, msg)
}

// apply stores validated values and reports which parameters changed,
// with their previous values.
func (c *Config) apply(ents []*entry, vals []any) (old map[*param]any, changed map[*param]bool) {
	old, changed = map[*param]any{}, map[*param]bool{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range ents {
		p := e.p
		prev := c.load(p)
		if _, ok := old[p]; !ok {
			old[p] = prev
		}
		// Compare stored values where they are plain numbers: two values
		// can print alike yet differ (notify-keyspace-events "An" prints
		// as "A").
		pi, ok1 := prev.(int64)
		ni, ok2 := vals[i].(int64)
		if (ok1 && ok2 && pi != ni) || (!(ok1 && ok2) && p.format(prev) != p.format(vals[i])) {
			changed[p] = true
		}
		c.store(p, vals[i])
	}
	return old, changed
}

// runHooks calls, once each and in registration order, the hooks watching
// a changed parameter. The error names the first parameter (in argument
// order) that triggered the failing hook.
func (c *Config) runHooks(ents []*entry, changed map[*param]bool) error {
	for _, h := range c.hooks {
		var trigger *entry
		for _, e := range ents {
			if changed[e.p] && h.params[e.p] {
				trigger = e
				break
			}
		}
		if trigger == nil {
			continue
		}
		if err := h.fn(); err != nil {
			return setFailed(trigger.name, err.Error())
		}
	}
	return nil
}

// OnChange registers fn to run after a CONFIG SET that changed any of the
// named parameters (names or aliases; unknown names panic). fn runs once
// per CONFIG SET even when several of its parameters changed, after all
// new values are visible through the accessors. If fn returns an error,
// CONFIG SET fails with "ERR CONFIG SET failed (possibly related to
// argument '<name>') - <error text>", every value of that CONFIG SET is
// restored and the hooks run again so their owners can re-apply the old
// state. fn must not call Set, Load or ParseArgs.
func (c *Config) OnChange(fn func() error, names ...string) {
	h := &hook{fn: fn, params: map[*param]bool{}}
	for _, n := range names {
		h.params[mustParam(n)] = true
	}
	c.setMu.Lock()
	c.hooks = append(c.hooks, h)
	c.setMu.Unlock()
}

// ForceSet sets one parameter from its arguments (split like a config file
// line), bypassing the mutability and protection checks and running no
// hooks. It is for server internals that own an "immutable" value, e.g.
// REPLICAOF changing replicaof, or lowering maxclients to the file limit.
func (c *Config) ForceSet(name string, args ...string) error {
	e := lookup(name)
	if e == nil {
		return replyErr("ERR Unknown option or number of arguments for CONFIG SET - '%s'", name)
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	v, es := c.parse(e.p, args, c.load(e.p), false)
	if es != "" {
		return setFailed(e.name, es)
	}
	c.mu.Lock()
	c.store(e.p, v)
	c.mu.Unlock()
	return nil
}

// Has reports whether name is a known parameter or alias.
func Has(name string) bool { return lookup(name) != nil }

// IsSensitive reports whether the value of the parameter must be redacted
// from logs, the slow log and MONITOR (requirepass, masterauth, masteruser).
func IsSensitive(name string) bool {
	e := lookup(name)
	return e != nil && e.p.flags&sensitive != 0
}
