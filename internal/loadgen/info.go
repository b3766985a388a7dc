package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Info returns the fields of one INFO section ("memory", "cpu", ...) by
// name. It is for setup and measurements between phases, not the hot path.
func (c *Conn) Info(section string) (map[string]string, error) {
	c.Cmd(2)
	c.ArgString("INFO")
	c.ArgString(section)
	if err := c.Flush(); err != nil {
		return nil, err
	}
	b, err := c.R.ReadBulk()
	if err != nil {
		return nil, fmt.Errorf("loadgen: INFO %s: %w", section, err)
	}
	fields := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// InfoFloat returns the numeric fields of one INFO section, in order, and
// fails naming the first that is missing or not a number.
func (c *Conn) InfoFloat(section string, names ...string) ([]float64, error) {
	fields, err := c.Info(section)
	if err != nil {
		return nil, err
	}
	vs := make([]float64, len(names))
	for i, n := range names {
		v, ok := fields[n]
		if !ok {
			return nil, fmt.Errorf("loadgen: INFO %s has no %s field", section, n)
		}
		if vs[i], err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("loadgen: INFO %s: %s is %q, not a number", section, n, v)
		}
	}
	return vs, nil
}

// readPendingSummary reads the reply of XPENDING key group (summary form)
// and returns its first element, the number of pending entries.
func (c *Conn) readPendingSummary() (int64, error) {
	n, err := c.R.ReadArrayLen()
	if err != nil {
		return 0, fmt.Errorf("loadgen: XPENDING: %w", err)
	}
	if n != 4 {
		return 0, fmt.Errorf("%w: XPENDING summary of %d elements", ErrProtocol, n)
	}
	count, err := c.R.ReadInt()
	if err != nil {
		return 0, err
	}
	for range 3 {
		if err := c.R.Skip(); err != nil {
			return 0, err
		}
	}
	return count, nil
}
