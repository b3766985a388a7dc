package command

// Error texts of the transaction and pub/sub commands (Redis 7.0.15),
// checked against redis-server by the differential tests.
const (
	msgSSubscribeDenyBlocking = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
	// msgExecAbortBecause prefixes the reason an EXEC was rejected.
	msgExecAbortBecause = "EXECABORT Transaction discarded because of: "
)
