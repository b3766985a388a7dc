package streams

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzDeadLetterRoundTrip: whatever the message, its fields and its error
// (names that look like the metadata, empty strings, odd bytes), the
// dead-letter entry a Worker writes reads back as the same dead letter;
// and reading any field list never panics.
func FuzzDeadLetterRoundTrip(f *testing.F) {
	f.Add("orders-stream", "1-1", "payment-processors", "worker-a", 3, "card declined", "order\x00dlq-stream\x00x\x00y")
	f.Add("", "", "", "", 0, "", "")
	f.Add("s", "0-1", "g", "c", -1, "multi\nline", "dlq-id\x00dlq-id\x00a\x00")
	f.Fuzz(func(t *testing.T, stream, id, group, consumer string, deliveries int, cause, packed string) {
		fields := strings.Split(packed, "\x00")
		if len(fields)%2 != 0 {
			fields = fields[:len(fields)-1]
		}
		m := Message{Stream: stream, ID: id, Group: group, Consumer: consumer, Deliveries: deliveries}
		args := deadLetterFields(m, fields, errors.New(cause))
		raw := make([]string, len(args))
		for i, a := range args {
			raw[i] = a.(string)
		}
		d := parseDeadLetter(entry{id: "9-9", fields: raw})
		want := DeadLetter{ID: "9-9", Stream: stream, MessageID: id, Group: group, Consumer: consumer,
			Deliveries: deliveries, Error: cause, Fields: fields}
		if d.ID != want.ID || d.Stream != want.Stream || d.MessageID != want.MessageID || d.Group != want.Group ||
			d.Consumer != want.Consumer || d.Deliveries != want.Deliveries || d.Error != want.Error || !slices.Equal(d.Fields, want.Fields) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", d, want)
		}
		// Any field list parses without a panic, and keeps every field.
		other := parseDeadLetter(entry{id: "1-1", fields: strings.Split(packed, "\x00")})
		if other.Stream == "" && !slices.Equal(other.Fields, strings.Split(packed, "\x00")) {
			t.Fatalf("an entry without metadata lost fields: %q", other.Fields)
		}
	})
}
