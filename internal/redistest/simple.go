package redistest

// SimpleConn is a tiny RESP2 client whose replies are plain Go values
// (string, int64, nil, []any, SimpleError), for tests that check values
// rather than bytes (the config and glob differential tests).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

type SimpleError string

func (e SimpleError) Error() string { return string(e) }

type SimpleConn struct {
	c net.Conn
	r *bufio.Reader
}

func (rc *SimpleConn) Do(args ...string) (any, error) {
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(buf); err != nil {
		return nil, err
	}
	return rc.read()
}

func (rc *SimpleConn) read() (any, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, errors.New("short RESP line")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return SimpleError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = rc.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected RESP type %q", line[0])
}

// StartSimple launches a throwaway redis-server on a free loopback port,
// optionally from a config file. It skips the test when redis-server is
// missing unless RUNNEL_REQUIRE_REDIS=1.
func StartSimple(t testing.TB, conf ...string) *SimpleConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("RUNNEL_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not on PATH but RUNNEL_REQUIRE_REDIS=1: %v", err)
		}
		t.Skip("redis-server not on PATH; skipping differential test (set RUNNEL_REQUIRE_REDIS=1 to make this fatal)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--logfile", ""}
	if len(conf) > 0 { // the file provides everything but the port
		args = append(conf, "--port", strconv.Itoa(port))
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			rc := &SimpleConn{c: c, r: bufio.NewReader(c)}
			t.Cleanup(func() { c.Close() })
			if v, err := rc.Do("PING"); err == nil && v == "PONG" {
				return rc
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not come up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
