package stream

import "testing"

// NextClaimTime is when a blocked XREADGROUP ... CLAIM runs again (spec §7):
// the oldest delivery among pending entries whose stream entry exists,
// plus min-idle-time; NACKed entries count from time 0.
func TestNextClaimTime(t *testing.T) {
	s := New()
	add(t, s, id(1), "f", "v")
	add(t, s, id(2), "f", "v")
	g := mustGroup(t, s, "g", MinID)
	c := consumer(g, "c", 0)
	if _, ok := s.NextClaimTime(g, 500); ok {
		t.Fatal("an empty PEL has no claim time")
	}
	readAll(s, g, c, 1, 1000)
	readAll(s, g, c, 1, 2000)
	for _, tc := range []struct {
		step string
		do   func()
		want int64
		ok   bool
	}{
		{"oldest delivery", func() {}, 1500, true},
		{"first entry deleted from the stream", func() { s.Delete(id(1)) }, 2500, true},
		{"NACKed entry", func() { g.Nack(s, id(2), NackFail, -1, false) }, 500, true},
		{"acked", func() { g.Ack(id(2)) }, 0, false},
	} {
		tc.do()
		got, ok := s.NextClaimTime(g, 500)
		if got != tc.want || ok != tc.ok {
			t.Fatalf("%s: NextClaimTime = %d, %v; want %d, %v", tc.step, got, ok, tc.want, tc.ok)
		}
		check(t, s)
	}
}
