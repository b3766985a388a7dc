package redistest

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing, so the
// harness's own tests can check that a divergence is reported and how.
// Fatal, FailNow and Skip end the goroutine like the real ones; run
// provides that goroutine. Everything else (Cleanup, TempDir, Logf) goes to
// the real test.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	errors  []string
	fatal   bool
	skipped string
}

func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func (r *recorder) Helper() {}

func (r *recorder) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, msg)
}

func (r *recorder) Error(args ...any)                 { r.add(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }
func (r *recorder) Errorf(format string, args ...any) { r.add(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); r.FailNow() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }
func (r *recorder) Fail()                             { r.add("Fail called") }
func (r *recorder) Failed() bool                      { return len(r.messages()) > 0 }

func (r *recorder) FailNow() {
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) { r.Skip(fmt.Sprintf(format, args...)) }
func (r *recorder) SkipNow()                         { r.Skip() }

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// wantFailure checks that exactly one failure was recorded and that it
// contains every fragment.
func (r *recorder) wantFailure(t *testing.T, fragments ...string) {
	t.Helper()
	msgs := r.messages()
	if len(msgs) != 1 {
		t.Fatalf("recorded %d failures, want 1: %q", len(msgs), msgs)
	}
	for _, f := range fragments {
		if !strings.Contains(msgs[0], f) {
			t.Errorf("failure message lacks %q:\n%s", f, msgs[0])
		}
	}
}

func (r *recorder) wantNoFailure(t *testing.T) {
	t.Helper()
	if msgs := r.messages(); len(msgs) > 0 {
		t.Fatalf("unexpected failures:\n%s", strings.Join(msgs, "\n---\n"))
	}
}

// fakeServer answers each command with handle(args); it lets the Pair be
// tested against replies real Redis would never send.
func fakeServer(t *testing.T, handle func(args []string) string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				// The client's Conn cleanup closes its end, which ends this loop.
				defer nc.Close()
				d := decoder{r: bufio.NewReader(nc)}
				for {
					d.raw = d.raw[:0]
					v, err := d.value(0)
					if err != nil {
						return
					}
					var args []string
					for _, e := range v.Elems {
						args = append(args, e.Str)
					}
					if _, err := nc.Write([]byte(handle(args))); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}
