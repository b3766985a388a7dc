package command

// Error texts of the generic keyspace commands (checked against
// redis-server 7.0.15); to be merged into errors.go.
const (
	// msgUnsupportedOption is EXPIRE's reply to an unknown option.
	msgUnsupportedOption = "ERR Unsupported option %s"
	// msgIntRange is getIntFromObjectOrReply's range error (MOVE and COPY
	// DB indexes that do not fit an int).
	msgIntRange = "ERR value is out of range, value must between -2147483648 and 2147483647"
	// SWAPDB's replies to an index that is not an int.
	msgInvalidFirstDB  = "ERR invalid first DB index"
	msgInvalidSecondDB = "ERR invalid second DB index"
	// msgCopyUnsupported answers COPY of a value type that cannot be
	// duplicated (every Redis type can; this guards Runnel's own types
	// until they implement engine.Duplicator).
	msgCopyUnsupported = "ERR COPY is not supported for this value type"
)
