package redistest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Update makes Golden rewrite golden files instead of comparing:
// go test ./... -update.
var Update = flag.Bool("update", false, "rewrite golden files")

// Golden compares got with testdata/<name>.golden in the test's package
// directory, or writes that file when -update is set. name may contain
// slashes to group files in subdirectories.
func Golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name)+".golden")
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatalf("redistest: golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatalf("redistest: golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Fatalf("redistest: golden file %s does not exist; run go test with -update to create it", path)
	}
	if err != nil {
		tb.Fatalf("redistest: golden: %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("redistest: output differs from %s (run go test with -update to accept it)\n%s", path, lineDiff(want, got))
	}
}

// lineDiff describes the first differing line; golden outputs are usually
// short and a full diff algorithm is not worth its weight here.
func lineDiff(want, got []byte) string {
	wl, gl := bytes.SplitAfter(want, []byte("\n")), bytes.SplitAfter(got, []byte("\n"))
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("first difference at line %d:\n  want: %s\n  got:  %s\n(want %d bytes, got %d bytes)",
				i+1, lineText(w, i < len(wl)), lineText(g, i < len(gl)), len(want), len(got))
		}
	}
	return ""
}

func lineText(l []byte, present bool) string {
	if !present {
		return "(end of file)"
	}
	return strconv.Quote(string(l))
}
