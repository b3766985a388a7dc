package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireRedisEnv is the environment variable that turns a missing
// redis-server from a skipped test into a failure, so that CI cannot pass
// by silently skipping every differential test.
const RequireRedisEnv = "RUNNEL_REQUIRE_REDIS"

const notFoundMsg = "redis-server not found: install Debian's redis-server (apt-get install redis-server) to run differential tests"

// startTimeout bounds how long a fresh redis-server may take to answer PING.
const startTimeout = 10 * time.Second

// RequireRedis reports whether RUNNEL_REQUIRE_REDIS=1, i.e. whether tests
// must fail rather than skip when redis-server is unavailable.
func RequireRedis() bool { return os.Getenv(RequireRedisEnv) == "1" }

// Redis is a redis-server process owned by one test.
type Redis struct {
	addr   string
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been reaped
	log    *logBuffer
}

// StartRedis starts a private redis-server on a free loopback port, with no
// persistence and DEBUG enabled, waits until it answers PING and stops it
// when the test ends. extraConfig lines are appended to the configuration
// (e.g. "maxmemory 1mb"). Without redis-server on PATH the test is skipped,
// or fails if RUNNEL_REQUIRE_REDIS=1.
func StartRedis(tb testing.TB, extraConfig ...string) *Redis {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if RequireRedis() {
			tb.Fatal(notFoundMsg)
		}
		tb.Skip(notFoundMsg)
	}
	dir := tb.TempDir()
	// FreePort can race with other processes grabbing the same port before
	// redis binds it, so a bind failure is retried on a new port.
	for attempt := 1; ; attempt++ {
		r, err := startRedis(bin, dir, FreePort(tb), extraConfig)
		if err == nil {
			tb.Cleanup(func() { r.stop(tb) })
			return r
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			tb.Fatalf("redistest: start redis-server: %v", err)
		}
	}
}

func startRedis(bin, dir string, port int, extra []string) (*Redis, error) {
	conf := []string{
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		`save ""`,
		"appendonly no",
		"daemonize no",
		`logfile ""`,
		"dir " + strconv.Quote(dir),
		"enable-debug-command yes",
	}
	conf = append(conf, extra...)
	r := &Redis{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		port:   port,
		exited: make(chan struct{}),
		log:    &logBuffer{},
	}
	r.cmd = exec.Command(bin, "-")
	r.cmd.Dir = dir
	r.cmd.Stdin = strings.NewReader(strings.Join(conf, "\n") + "\n")
	r.cmd.Stdout = r.log
	r.cmd.Stderr = r.log
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		r.cmd.Wait()
		close(r.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("redis-server exited during startup (%v); output:\n%s", r.cmd.ProcessState, r.log)
		default:
		}
		if ping(r.addr, 500*time.Millisecond) == nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			r.kill()
			return nil, fmt.Errorf("redis-server on %s did not answer PING within %v; output:\n%s", r.addr, startTimeout, r.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping sends one PING and expects +PONG, without needing a testing.TB.
func ping(addr string, timeout time.Duration) error {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write(Command("PING")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return err
	}
	if string(buf) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", buf)
	}
	return nil
}

// stop shuts the server down politely so it exits like a real deployment
// would, and kills it if that does not work quickly.
func (r *Redis) stop(tb testing.TB) {
	select {
	case <-r.exited:
		// A test may legitimately stop the server (SHUTDOWN, DEBUG
		// SEGFAULT); log rather than fail, with the output for diagnosis.
		tb.Logf("redistest: redis-server %s had already exited (%v); output:\n%s", r.addr, r.cmd.ProcessState, r.log)
		return
	default:
	}
	if nc, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
		nc.SetDeadline(time.Now().Add(time.Second))
		nc.Write(Command("SHUTDOWN", "NOSAVE"))
		nc.Read(make([]byte, 1)) // returns when the server has closed it
		nc.Close()
	}
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		r.kill()
	}
}

func (r *Redis) kill() {
	r.cmd.Process.Kill()
	<-r.exited
}

// Addr returns the server's host:port.
func (r *Redis) Addr() string { return r.addr }

// Port returns the server's TCP port.
func (r *Redis) Port() int { return r.port }

// Log returns everything the server has written to stdout and stderr.
func (r *Redis) Log() string { return r.log.String() }

// Dial opens a new raw connection to the server.
func (r *Redis) Dial(tb testing.TB) *Conn {
	tb.Helper()
	return Dial(tb, r.addr)
}

// FlushAll resets the server between sub-tests: all keys in all databases
// and the INFO statistics. Scripts, functions and config changes are left
// alone; tests that change those should start their own server.
func (r *Redis) FlushAll(tb testing.TB) {
	tb.Helper()
	FlushAll(tb, r.addr)
}

// FlushAll sends FLUSHALL and CONFIG RESETSTAT to the server at addr on a
// short-lived connection, failing the test unless both reply +OK. It works on
// any server that implements those commands, Runnel included.
func FlushAll(tb testing.TB, addr string) {
	tb.Helper()
	c := Dial(tb, addr)
	defer c.Close()
	for _, cmd := range [][]string{{"FLUSHALL"}, {"CONFIG", "RESETSTAT"}} {
		if got := c.Do(cmd...); string(got) != "+OK\r\n" {
			tb.Fatalf("redistest: %s on %s: got %q, want +OK", FormatCommand(cmd), addr, got)
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// port is released before returning, so another process may take it; callers
// that bind it should be ready to retry.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitForPort waits until the server at addr, started in the background,
// accepts connections and has loaded its data (Redis and Runnel answer
// -LOADING until then).
func WaitForPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		reply, err := pingOnce(addr, min(timeout, time.Second))
		if err == nil && !strings.HasPrefix(reply, "-LOADING") {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still loading: %s", reply)
			}
			return fmt.Errorf("%s not ready after %v: %w", addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pingOnce sends an inline PING on a new connection and returns the first
// line of the reply (any reply but -LOADING means the server is ready:
// -NOAUTH and -DENIED too).
func pingOnce(addr string, timeout time.Duration) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// logBuffer collects process output; exec writes to it from its own
// goroutine while the test may read it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxLog keeps a runaway server from filling memory; the start of the log
// (version, config errors) is what matters.
const maxLog = 1 << 20

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxLog - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
