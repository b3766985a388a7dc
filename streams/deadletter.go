package streams

import (
	"strconv"
)

// DefaultDeadLetterStream is where a Worker dead-letters messages unless
// WorkerOptions.DeadLetterStream says otherwise: the article's name.
const DefaultDeadLetterStream = "dead-letter-stream"

// A dead-letter entry starts with these fields, in this order, then holds
// the original entry's fields unchanged. Reading them by position (not by
// name) keeps an original field that happens to share a name intact.
var deadLetterMeta = [...]string{
	"dlq-stream",     // the stream the message was read from
	"dlq-id",         // its entry ID there
	"dlq-group",      // the consumer group that gave up on it
	"dlq-consumer",   // the consumer that last held it
	"dlq-deliveries", // how many times the group delivered it
	"dlq-error",      // the last handler error
}

// DeadLetter is one entry of a dead-letter stream.
type DeadLetter struct {
	ID         string // its ID in the dead-letter stream
	Stream     string // the stream the message came from
	MessageID  string // its ID there
	Group      string
	Consumer   string
	Deliveries int
	Error      string
	// Fields are the original entry's fields, name, value, ... in order.
	Fields []string
}

// deadLetterFields is the dead-letter entry for m, whose entry has fields,
// failed with err.
func deadLetterFields(m Message, fields []string, err error) []any {
	args := make([]any, 0, 2*len(deadLetterMeta)+len(fields))
	msg := "unknown"
	if err != nil {
		msg = err.Error()
	}
	for i, v := range [...]string{m.Stream, m.ID, m.Group, m.Consumer, strconv.Itoa(m.Deliveries), msg} {
		args = append(args, deadLetterMeta[i], v)
	}
	for _, f := range fields {
		args = append(args, f)
	}
	return args
}

// parseDeadLetter reads a dead-letter entry. An entry without the metadata
// (written by other code, as the article's is) has all its fields in
// Fields and the rest empty.
func parseDeadLetter(e entry) DeadLetter {
	d := DeadLetter{ID: e.id, Fields: e.fields}
	n := 2 * len(deadLetterMeta)
	if len(e.fields) < n {
		return d
	}
	for i, name := range deadLetterMeta {
		if e.fields[2*i] != name {
			return d
		}
	}
	v := func(i int) string { return e.fields[2*i+1] }
	d.Stream, d.MessageID, d.Group, d.Consumer, d.Error = v(0), v(1), v(2), v(3), v(5)
	d.Deliveries, _ = strconv.Atoi(v(4))
	d.Fields = e.fields[n:]
	return d
}
