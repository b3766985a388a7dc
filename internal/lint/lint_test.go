// Package lint holds the project's rules as tests: the one-way import
// graph between packages (ARCHITECTURE.md), forbidden imports, and raw
// sync/atomic functions.
package lint

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/runnel-io/runnel/"

// allowed lists, for each internal package, the internal packages it may
// import. A package missing here may import nothing internal.
var allowed = map[string][]string{
	"internal/resp":        {},
	"internal/glob":        {},
	"internal/config":      {"internal/glob", "internal/resp"},
	"internal/engine":      {},
	"internal/stream":      {"internal/engine", "internal/resp"},
	"internal/pubsub":      {"internal/engine", "internal/glob", "internal/resp"},
	"internal/server":      {"internal/resp"},
	"internal/command":     {"internal/config", "internal/engine", "internal/glob", "internal/pubsub", "internal/resp", "internal/server", "internal/store", "internal/stream"},
	"internal/app":         {"internal/command", "internal/config", "internal/engine", "internal/pubsub", "internal/server", "internal/store", "internal/stream", "internal/vfs", "internal/wal"},
	"internal/redistest":   {},
	"internal/vfs":         {},
	"internal/seglog":      {"internal/vfs"},
	"internal/wal":         {"internal/seglog", "internal/vfs"},
	"internal/nodestore":   {"internal/seglog", "internal/vfs"},
	"internal/store":       {"internal/engine", "internal/nodestore", "internal/seglog", "internal/stream", "internal/vfs", "internal/wal"},
	"cmd/runnel":           {"internal/app", "internal/command", "internal/config", "internal/server", "internal/store", "streams"},
	"internal/loadgen":     {"internal/resp"},
	"internal/app/apptest": {"internal/app", "internal/config"},
	"cmd/runnel-bench":     {"internal/loadgen"},
	// The client library: go-redis and the standard library only, so that
	// users import it without Runnel's internals.
	"streams": {},
	// The article's Figure 4 as a program, on the client library.
	"examples/orders": {"streams"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportBoundaries(t *testing.T) {
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		if name == "internal/lint" || strings.HasPrefix(name, "internal/difftest") || strings.Contains(name, "/gendocs") {
			continue
		}
		ok, known := allowed[name]
		if !known {
			t.Errorf("package %s is not in the import rules: add it to internal/lint and ARCHITECTURE.md", name)
			continue
		}
		set := map[string]bool{}
		for _, a := range ok {
			set[a] = true
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !set[dep] {
				t.Errorf("%s imports %s, which ARCHITECTURE.md's import rules forbid", name, dep)
			}
		}
	}
}

// TestProductionImports keeps test-only and unwanted packages out of
// production code.
func TestProductionImports(t *testing.T) {
	forbidden := map[string]string{
		module + "internal/redistest":   "test harness",
		module + "internal/app/apptest": "test harness",
		"log":                           "use log/slog",
		"github.com/redis/go-redis/v9":  "test client only",
		"github.com/redis/rueidis":      "test client only",
	}
	// The client library is built on go-redis (issue 6): its users' client.
	// `runnel dlq` is a client of the library.
	clientOK := map[string]bool{module + "streams": true, module + "examples/orders": true, module + "cmd/runnel": true}
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if imp == "github.com/redis/go-redis/v9" && clientOK[p.ImportPath] {
				continue
			}
			if why, bad := forbidden[imp]; bad {
				t.Errorf("%s imports %s (%s)", p.ImportPath, imp, why)
			}
		}
	}
}

// TestDeterministicStreamCore keeps the stream core free of clocks,
// randomness and I/O: replaying its operations (from the storage log, on
// a replica) must give the same state (ARCHITECTURE.md, Streams).
func TestDeterministicStreamCore(t *testing.T) {
	forbidden := []string{"time", "math/rand", "math/rand/v2", "crypto/rand", "os", "io", "net", "sync", "syscall"}
	for _, p := range listPackages(t) {
		if p.ImportPath != module+"internal/stream" {
			continue
		}
		for _, imp := range p.Imports {
			for _, f := range forbidden {
				if imp == f {
					t.Errorf("internal/stream imports %s: the stream core must not read clocks, draw random numbers or do I/O", imp)
				}
			}
		}
		return
	}
	t.Fatal("internal/stream not found")
}

// TestNoRawAtomics asks for the typed atomics (atomic.Int64, ...) rather
// than the functions on raw integers, as Pebble's lint does.
func TestNoRawAtomics(t *testing.T) {
	out, _ := exec.Command("grep", "-rnE", `atomic\.(Add|Load|Store|Swap|CompareAndSwap)(Int|Uint|Pointer)`, "--include=*.go", "../../internal", "../../cmd").Output()
	if len(out) > 0 {
		t.Errorf("raw sync/atomic functions; use the typed atomics:\n%s", out)
	}
}
