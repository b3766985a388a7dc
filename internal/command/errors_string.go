package command

// Error texts of the string commands (checked against redis-server 7.0.15);
// to be merged into errors.go.
const (
	msgDecrOverflow  = "ERR decrement would overflow"
	msgLCSNotStrings = "ERR The specified keys must contain string values"
	msgLCSLenAndIdx  = "ERR If you want both the length and indexes, please just use IDX."
	msgLCSTooLong    = "ERR String too long for LCS"
	msgLCSMemory     = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)
