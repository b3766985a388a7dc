package difftest

// Keyspace-event comparison shared by the differential tests: both servers
// publish their events to a subscriber pair, and a marker message ends each
// command's batch.

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// events compares the keyspace events two servers publish.
type events struct {
	t   *testing.T
	sub *redistest.Pair
}

const eventsMarker = "ks-events-marker"

// setEvents sets notify-keyspace-events on both servers.
func setEvents(t *testing.T, s *servers, p *redistest.Pair, flags string) {
	t.Helper()
	if v := p.Redis.Do("CONFIG", "SET", "notify-keyspace-events", flags); string(v) != "+OK\r\n" {
		t.Fatalf("redis CONFIG SET notify-keyspace-events: %q", v)
	}
	if v := p.Runnel.Do("CONFIG", "SET", "notify-keyspace-events", flags); string(v) != "+OK\r\n" {
		t.Fatalf("runnel CONFIG SET notify-keyspace-events: %q", v)
	}
}

// watchEvents enables keyspace events (flags) and subscribes a new
// connection pair to all of them.
func watchEvents(t *testing.T, s *servers, p *redistest.Pair, proto int, flags string) *events {
	t.Helper()
	setEvents(t, s, p, flags)
	sub := redistest.NewPair(t, s.addr, s.redis.Addr(), proto)
	t.Cleanup(sub.Close)
	sub.Do("PSUBSCRIBE", "__key*__:*")
	sub.Do("SUBSCRIBE", eventsMarker)
	return &events{t: t, sub: sub}
}

// do runs a command on p and requires both servers to publish the same
// events, in the same order, before a marker message.
func (e *events) do(p *redistest.Pair, args ...string) {
	e.t.Helper()
	p.Do(args...)
	e.check(p, redistest.FormatCommand(args))
}

// check publishes the marker and compares the events received before it.
func (e *events) check(p *redistest.Pair, what string) {
	e.t.Helper()
	p.Do("PUBLISH", eventsMarker, "done")
	r, s := e.collect(e.sub.Runnel), e.collect(e.sub.Redis)
	if !slices.Equal(r, s) {
		e.t.Errorf("events after %s differ:\nrunnel: %s\nredis:  %s", what, strings.Join(r, " "), strings.Join(s, " "))
	}
}

// collect reads the events published before the marker, as
// "channel=message" strings (the raw reply for anything unexpected).
func (e *events) collect(c *redistest.Conn) []string {
	e.t.Helper()
	var out []string
	for {
		raw, ok := c.ReadReplyTimeout(5 * time.Second)
		if !ok {
			e.t.Fatalf("no marker message within 5s; got %q", out)
		}
		v, err := redistest.Parse(raw)
		if err != nil {
			e.t.Fatal(err)
		}
		switch {
		case len(v.Elems) == 3 && v.Elems[0].Str == "message" && v.Elems[1].Str == eventsMarker:
			return out
		case len(v.Elems) == 4 && v.Elems[0].Str == "pmessage":
			out = append(out, strconv.Quote(v.Elems[2].Str+"="+v.Elems[3].Str))
		default:
			out = append(out, strconv.Quote(string(raw)))
		}
	}
}
