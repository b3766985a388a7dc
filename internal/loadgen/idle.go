package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// IdleOptions configures Idle.
type IdleOptions struct {
	Addr    string        `json:"addr"`
	Key     string        `json:"key"`     // the stream; deleted, then created empty with the group
	Clients int           `json:"clients"` // connections blocked in XREADGROUP BLOCK 0
	Window  time.Duration `json:"window"`  // how long the server's CPU is watched
	Settle  time.Duration `json:"settle"`  // pause between the last client blocking and the window; 0: 1s
}

func (o *IdleOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: idle needs an address and a key")
	case o.Clients < 1 || o.Window <= 0 || o.Settle < 0:
		return errors.New("loadgen: idle needs clients >= 1, a positive window and settle >= 0")
	}
	return nil
}

func (o *IdleOptions) params() string {
	return fmt.Sprintf("clients=%d window=%v", o.Clients, o.Window)
}

// idleGroup is the consumer group of an Idle run.
const idleGroup = "runnel-bench-idle"

// IdleResult is the server's CPU time over the window of an Idle run.
type IdleResult struct {
	Clients       int     `json:"clients"`        // blocked at both ends of the window
	WindowSeconds float64 `json:"window_seconds"` // wall time between the two INFO cpu readings
	CPUSeconds    float64 `json:"cpu_seconds"`    // growth of used_cpu_sys + used_cpu_user
	CPUPercent    float64 `json:"cpu_percent"`    // CPUSeconds / WindowSeconds, in % of one core
}

func (r *IdleResult) String() string {
	return fmt.Sprintf("%.3g%% of a core (%.3g s CPU in %.3g s) with %d clients blocked",
		r.CPUPercent, r.CPUSeconds, r.WindowSeconds, r.Clients)
}

// Idle measures what the server spends while o.Clients clients wait. It
// creates o.Key empty with one group, opens o.Clients connections, each
// sending XREADGROUP GROUP g c<i> BLOCK 0 STREAMS key > (different
// consumer names) and nothing else, and waits until INFO clients reports
// them all in blocked_clients. After o.Settle, it reads INFO cpu
// (used_cpu_sys + used_cpu_user), waits o.Window and reads it again:
// CPU% is the growth over the wall time between the readings, in percent
// of one core. It fails unless every client is still blocked at the end.
//
// It raises its own soft RLIMIT_NOFILE up to the hard limit, and fails
// before connecting when the hard limit is too low or when the server's
// maxclients (CONFIG GET) is below o.Clients + 1.
func Idle(ctx context.Context, o IdleOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Settle == 0 {
		o.Settle = time.Second
	}
	if err := raiseFileLimit(uint64(o.Clients) + 64); err != nil {
		return nil, fmt.Errorf("loadgen: idle: %d clients: %w", o.Clients, err)
	}
	c, release, err := dialOne(ctx, o.Addr)
	if err != nil {
		return nil, err
	}
	defer release()
	if maxClients, err := configInt(c, "maxclients"); err != nil {
		return nil, err
	} else if maxClients < int64(o.Clients)+1 {
		return nil, fmt.Errorf("loadgen: idle: the server's maxclients is %d, below %d clients and this one: start it with --maxclients %d or more", maxClients, o.Clients, o.Clients+1)
	}
	if err := c.Do("DEL", o.Key); err != nil {
		return nil, err
	}
	if err := c.Do("XGROUP", "CREATE", o.Key, idleGroup, "$", "MKSTREAM"); err != nil {
		return nil, err
	}
	before, err := blockedClients(c) // other clients' waits are not ours
	if err != nil {
		return nil, err
	}
	want := before + int64(o.Clients)

	// Bare connections: they only write one command, so they need no
	// reader, no buffer and no goroutine here.
	ncs := make([]net.Conn, 0, o.Clients)
	closeAll := func() {
		for _, nc := range ncs {
			nc.Close()
		}
	}
	defer func() {
		closeAll()
		// Leave the server as found: a run right after this one counts
		// the blocked clients it finds as others', so ours must be gone.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if n, err := blockedClients(c); err != nil || n <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var d net.Dialer // DialContext stops on cancel; the writes are too small to block
	for i := range o.Clients {
		nc, err := d.DialContext(ctx, "tcp", o.Addr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: idle: client %d of %d: %w", i+1, o.Clients, err)
		}
		ncs = append(ncs, nc)
		cmd := encodeCommand("XREADGROUP", "GROUP", idleGroup, "c"+strconv.Itoa(i), "BLOCK", "0", "STREAMS", o.Key, ">")
		if _, err := nc.Write(cmd); err != nil {
			return nil, fmt.Errorf("loadgen: idle: client %d of %d: %w", i+1, o.Clients, err)
		}
	}
	stopClose := context.AfterFunc(ctx, closeAll)
	defer stopClose()
	if err := waitBlocked(ctx, c, want, 30*time.Second+time.Duration(o.Clients)*time.Millisecond); err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, o.Settle); err != nil {
		return nil, err
	}

	cpu := func() (float64, time.Time, error) {
		v, err := c.InfoFloat("cpu", "used_cpu_sys", "used_cpu_user")
		if err != nil {
			return 0, time.Time{}, err
		}
		return v[0] + v[1], time.Now(), nil
	}
	cpu0, t0, err := cpu()
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, o.Window); err != nil {
		return nil, err
	}
	cpu1, t1, err := cpu()
	if err != nil {
		return nil, err
	}
	if blocked, err := blockedClients(c); err != nil {
		return nil, err
	} else if blocked != want {
		return nil, fmt.Errorf("loadgen: idle: %d clients blocked at the end of the window, want %d", blocked, want)
	}
	window := t1.Sub(t0)
	ir := &IdleResult{Clients: o.Clients, WindowSeconds: window.Seconds(), CPUSeconds: max(0, cpu1-cpu0)}
	ir.CPUPercent = 100 * ir.CPUSeconds / ir.WindowSeconds
	r := &Result{Workload: "idle", Params: o.params(), Options: o, Idle: ir, Ops: int64(o.Clients), Duration: window, Seconds: window.Seconds()}
	return r, nil
}

// raiseFileLimit raises the soft limit on open files to the hard limit when
// it is below need, and fails when the hard limit is below need.
func raiseFileLimit(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if l.Cur >= need {
		return nil
	}
	if l.Max < need {
		return fmt.Errorf("about %d open files needed, but the hard limit (ulimit -Hn) is %d: raise it (ulimit -n %d as root, LimitNOFILE= in systemd, nofile in limits.conf) or use fewer clients", need, l.Max, need)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("raise the open files limit to %d: %w", l.Max, err)
	}
	return nil
}

// configInt returns a numeric parameter from CONFIG GET.
func configInt(c *Conn, name string) (int64, error) {
	c.Cmd(3)
	c.ArgString("CONFIG")
	c.ArgString("GET")
	c.ArgString(name)
	if err := c.Flush(); err != nil {
		return 0, err
	}
	n, err := c.R.ReadArrayLen()
	if err != nil {
		return 0, fmt.Errorf("loadgen: CONFIG GET %s: %w", name, err)
	}
	if n != 2 {
		for range n {
			if err := c.R.Skip(); err != nil {
				return 0, err
			}
		}
		return 0, fmt.Errorf("loadgen: CONFIG GET %s: %d elements, want the name and its value", name, n)
	}
	if err := c.R.Skip(); err != nil {
		return 0, err
	}
	v, err := c.R.ReadBulk()
	if err != nil {
		return 0, err
	}
	i, ok := parseInt(v)
	if !ok {
		return 0, fmt.Errorf("loadgen: CONFIG GET %s is %q, not an integer", name, v)
	}
	return i, nil
}

// blockedClients returns INFO clients' blocked_clients.
func blockedClients(c *Conn) (int64, error) {
	v, err := c.InfoFloat("clients", "blocked_clients")
	if err != nil {
		return 0, err
	}
	return int64(v[0]), nil
}

// waitBlocked polls INFO clients until want clients are blocked.
func waitBlocked(ctx context.Context, c *Conn, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := blockedClients(c)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			conns := "?"
			if f, err := c.Info("clients"); err == nil {
				conns = f["connected_clients"]
			}
			return fmt.Errorf("loadgen: idle: %d of %d clients blocked after %v (connected_clients %s): check the server's maxclients and open files limit", n, want, timeout, conns)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
