package streams

// Tx collects what a TxHandler publishes; the Worker adds it to the output
// streams in one MULTI/EXEC with the XACK of the input message, once the
// handler has succeeded. A Tx belongs to one handler call and is not safe
// for concurrent use.
type Tx struct {
	outs []txOut
}

type txOut struct {
	stream string
	fields []any
}

// Publish queues v (a map, name-value pairs or a tagged struct, as
// Producer.Publish takes) as a new entry of stream. Nothing is sent
// before the handler returns nil; a handler that fails publishes nothing.
func (tx *Tx) Publish(stream string, v any) error {
	fields, err := fieldArgs(nil, v)
	if err != nil {
		return err
	}
	tx.outs = append(tx.outs, txOut{stream: stream, fields: fields})
	return nil
}

// Len is how many entries tx holds.
func (tx *Tx) Len() int { return len(tx.outs) }
