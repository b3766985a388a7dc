package streams

import "fmt"

// Message is one stream entry delivered to a Worker's handler.
type Message struct {
	Stream   string // the stream it was read from
	Group    string // the consumer group it was delivered to
	Consumer string // the consumer it was delivered to
	ID       string // its entry ID
	// Values are the entry's fields by name (a repeated name keeps its
	// last value). It is nil when the entry's data is gone, and then the
	// handler does not see the message.
	Values map[string]string
	// Deliveries is how many times the group has delivered the entry,
	// this delivery included: 1 the first time. It is the server's count
	// (XPENDING's), so it survives restarts and moves between consumers.
	Deliveries int
}

// entry is a stream entry as a reply carries it; fields is nil when the
// entry's data is gone (trimmed or deleted while pending).
type entry struct {
	id     string
	fields []string
}

// parseEntries reads an array of entries, [id, [field, value, ...]], as
// rdb.Do gives XRANGE's reply: unlike go-redis's XMessage, it keeps the
// fields in stored order and repeated names.
func parseEntries(v any) ([]entry, error) {
	arr, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("streams: entries: unexpected %T", v)
	}
	out := make([]entry, 0, len(arr))
	for _, e := range arr {
		parts, ok := e.([]any)
		if !ok || len(parts) < 2 {
			return nil, fmt.Errorf("streams: entry: unexpected %T", e)
		}
		id, ok := parts[0].(string)
		if !ok {
			return nil, fmt.Errorf("streams: entry ID: unexpected %T", parts[0])
		}
		en := entry{id: id}
		if parts[1] != nil {
			fl, ok := parts[1].([]any)
			if !ok || len(fl)%2 != 0 {
				return nil, fmt.Errorf("streams: entry %s fields: unexpected %T", id, parts[1])
			}
			en.fields = make([]string, len(fl))
			for i, f := range fl {
				if en.fields[i], ok = f.(string); !ok {
					return nil, fmt.Errorf("streams: entry %s field: unexpected %T", id, f)
				}
			}
		}
		out = append(out, en)
	}
	return out, nil
}
