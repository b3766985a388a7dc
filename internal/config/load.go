package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Loading redis.conf-style files and redis-server style arguments, ported
// from loadServerConfigFromString and main() in Redis 7.0.

const maxIncludeDepth = 32 // Redis has no limit and overflows its stack

// Load reads configuration directives from r; name is used in errors. It
// accepts everything redis.conf accepts for the parameters in the table,
// plus "include <path-or-glob>" (resolved from the process directory, as
// Redis does) and "rename-command <from> <to>" (recorded, see Renames).
// "user", "loadmodule" and "sentinel" directives are refused. Values are
// applied line by line without hooks; on error the Config may be partially
// updated (the server is expected to exit).
func (c *Config) Load(r io.Reader, name string) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return &LoadError{File: name, Msg: err.Error()}
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	return c.loadString(string(data), name, 0, nil)
}

// LoadFile loads a file (or, when path contains * ? or [, every file
// matching it, concatenated) like Load. It does not set ConfigFile: only
// ParseArgs names the file that CONFIG REWRITE rewrites.
func (c *Config) LoadFile(path string) error {
	data, err := readConfigFiles(path)
	if err != nil {
		return &LoadError{File: path, Msg: err.Error()}
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	return c.loadString(data, path, 0, nil)
}

type openError struct{ path, reason string }

func (e *openError) Error() string {
	return "Fatal error, can't open config file '" + e.path + "': " + e.reason
}

// readConfigFiles is loadServerConfig's file reading: a path with glob
// characters reads every match (none is fine), otherwise the file must exist.
func readConfigFiles(path string) (string, error) {
	paths := []string{path}
	if strings.ContainsAny(path, "*?[") {
		paths, _ = filepath.Glob(path)
	}
	var b strings.Builder
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", &openError{p, errnoText(err)}
		}
		b.Write(data)
	}
	return b.String(), nil
}

// deprecated directives that Redis 7.0 still accepts and ignores, with
// their exact argument count (directive included).
var deprecatedDirectives = map[string]int{"list-max-ziplist-entries": 2, "list-max-ziplist-value": 2, "lua-replicate-commands": 2}

// loadString is loadServerConfigFromString. Lines from optStart (1-based;
// nil means none) on came from the command line and are reported as such.
func (c *Config) loadString(content, name string, depth int, optStart *int) error {
	c.readingFile = true
	lines := strings.Split(content, "\n")
	for i, raw := range lines {
		line := trimLine(raw)
		if line == "" || line[0] == '#' || line[0] == 0 {
			continue
		}
		fail := func(msg string) error {
			e := &LoadError{File: name, Line: i + 1, Text: line, Msg: msg}
			if optStart != nil && i+1 >= *optStart {
				e.File, e.Line = "(command line)", i+2-*optStart
			}
			return e
		}
		argv, ok := splitArgs(line)
		if !ok {
			return fail("Unbalanced quotes in configuration line")
		}
		if len(argv) == 0 {
			continue
		}
		directive := asciiLower(argv[0])
		if e := lookup(directive); e != nil {
			p := e.p
			if p.flags&multiArg == 0 && len(argv) != 2 {
				return fail("wrong number of arguments")
			}
			args := argv[1:]
			if p.flags&multiArg != 0 && len(argv) == 2 && argv[1] != "" {
				// One argument holding several, e.g. --save "900 1 300 10".
				args, _ = splitArgs(argv[1])
			}
			v, es := c.parse(p, args, c.load(p), c.readingFile)
			if es != "" {
				return fail(es)
			}
			c.mu.Lock()
			c.store(p, v)
			c.mu.Unlock()
			if p == pSave && c.readingFile {
				c.saveLoaded = true
			}
			continue
		}
		if n, ok := deprecatedDirectives[directive]; ok && len(argv) == n {
			continue
		}
		switch {
		case directive == "include" && len(argv) == 2:
			if depth >= maxIncludeDepth {
				return fail("include nesting is too deep")
			}
			data, err := readConfigFiles(argv[1])
			if err != nil {
				return fail(err.Error())
			}
			if err := c.loadString(data, argv[1], depth+1, nil); err != nil {
				return err
			}
		case directive == "rename-command" && len(argv) == 3:
			c.renames = append(c.renames, Rename{From: argv[1], To: argv[2]})
		case directive == "user" || directive == "loadmodule" || directive == "sentinel":
			return fail("the '" + directive + "' directive is not supported by Runnel")
		default:
			return fail("Bad directive or wrong number of arguments")
		}
	}
	if c.scal[pClusterEnabled.idx].Load() != 0 && c.load(pReplicaOf).(ReplicaOf).Host != "" {
		return &LoadError{File: name, Msg: "replicaof directive not allowed in cluster mode"}
	}
	// Redis clears the flag at the end of every (even included) file, so
	// "save" lines after an include replace rather than accumulate.
	c.readingFile = false
	return nil
}

// ParseArgs applies redis-server's command line (without the program
// name): an optional config file path first (any argument not starting
// with '-'), then "--name value [value ...]" options, which are applied
// after the file like extra lines appended to it. "--save" with no value
// means save "". It returns ErrHelp or ErrVersion for -h/--help and
// -v/--version, which the caller should handle, and a *LoadError for
// anything malformed. The file path, made absolute, becomes ConfigFile.
func (c *Config) ParseArgs(args []string) error {
	if len(args) == 0 {
		return nil
	}
	switch args[0] {
	case "-v", "--version":
		return ErrVersion
	case "-h", "--help":
		return ErrHelp
	case "--test-memory", "--check-system":
		return &LoadError{File: "(command line)", Msg: args[0] + " is not supported by Runnel"}
	}
	j, file := 0, ""
	if !strings.HasPrefix(args[0], "-") {
		abs, err := filepath.Abs(args[0])
		if err != nil {
			return &LoadError{File: args[0], Msg: err.Error()}
		}
		file, j = abs, 1
	}

	// Build the option lines exactly like redis-server's main().
	var opts strings.Builder
	handledLast := true
	for ; j < len(args); j++ {
		a := args[j]
		last := j == len(args)-1
		nextIsOpt := !last && strings.HasPrefix(args[j+1], "--")
		switch {
		case a == "-" && (j == 0 || last):
			return &LoadError{File: "(command line)", Msg: "reading the configuration from standard input is not supported by Runnel"}
		case handledLast && strings.HasPrefix(a, "--"):
			if opts.Len() > 0 {
				opts.WriteByte('\n')
			}
			opts.WriteString(a[2:])
			opts.WriteByte(' ')
			if toks, _ := splitArgs(a); len(toks) == 1 {
				// Only a name so far: the next argument is its value, even
				// if it starts with "--" (except for the special cases).
				handledLast = false
				switch {
				case nextIsOpt && strcasecmpEq(a, "--save"):
					opts.WriteString(`""`)
					handledLast = true
				case last && strcasecmpEq(a, "--save"):
					opts.WriteString(`""`)
				case nextIsOpt && strcasecmpEq(a, "--sentinel"):
					handledLast = true
				}
			} else {
				handledLast = true // "--port 6380" as one argument
			}
		default:
			opts.WriteString(repr(a))
			opts.WriteByte(' ')
			handledLast = true
		}
	}

	content, name := "", "(command line)"
	if file != "" {
		data, err := readConfigFiles(file)
		if err != nil {
			return &LoadError{File: file, Msg: err.Error()}
		}
		content, name = data, file
	}
	// Like Redis, parse file and options as one text so loader state
	// (notably for "save") carries over from the file to the options.
	start := strings.Count(content, "\n") + 2
	content += "\n" + opts.String()

	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	c.configFile = file
	c.mu.Unlock()
	return c.loadString(content, name, 0, &start)
}
