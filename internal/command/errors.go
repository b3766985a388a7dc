package command

// Exact Redis error texts (without the leading '-'), checked against
// redis-server 7.0.15 by the differential tests. Handlers use these
// constants and never write a Redis error text ad hoc; templates with a
// variable part are filled with formatMsg. Texts that are Runnel's own (for
// what Redis has and Runnel does not) say so.

// Generic, and the dispatcher.
const (
	// msgMisconfAOF is writeCommandsGetDiskErrorMessage's AOF case: the
	// write-ahead log cannot be written or synced.
	msgMisconfAOF = "MISCONF Errors writing to the AOF file: %s"
	// msgBgsaveInProgress answers SAVE and BGSAVE while a checkpoint runs.
	msgBgsaveInProgress = "ERR Background save already in progress"
	// msgAOFRewriteInProgress answers BGREWRITEAOF while a checkpoint runs.
	msgAOFRewriteInProgress = "ERR Background append only file rewriting already in progress"
	// msgErr is Redis's shared.err, the reply of a failed SAVE.
	msgErr = "ERR"

	msgSyntax          = "ERR syntax error"
	msgNotInt          = "ERR value is not an integer or out of range"
	msgNotFloat        = "ERR value is not a valid float"
	msgWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNoSuchKey       = "ERR no such key"
	msgNoAuth          = "NOAUTH Authentication required."
	msgLoading         = "LOADING Redis is loading the dataset in memory"
	msgWrongPass       = "WRONGPASS invalid username-password pair or user is disabled."
	msgAuthNoPassword  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	msgDBIndex         = "ERR DB index is out of range"
	msgSameObject      = "ERR source and destination objects are the same"
	msgOverflow        = "ERR increment or decrement would overflow"
	msgIncrFloatNaN    = "ERR increment would produce NaN or Infinity"
	msgStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	msgOffsetRange     = "ERR offset is out of range"
	msgInvalidExpire   = "ERR invalid expire time in '%s' command"
	msgNestedMulti     = "ERR MULTI calls can not be nested"
	msgExecNoMulti     = "ERR EXEC without MULTI"
	msgDiscardNoMulti  = "ERR DISCARD without MULTI"
	msgExecAbort       = "EXECABORT Transaction discarded because of previous errors."
	msgWatchInMulti    = "ERR WATCH inside MULTI is not allowed"
	msgNoProto         = "NOPROTO unsupported protocol version"
	msgClusterDisabled = "ERR This instance has cluster support disabled"
	msgClientName      = "ERR Client names cannot contain spaces, newlines or special characters."
	msgNoSuchClient    = "ERR No such client"
	msgTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	msgTimeoutNegative = "ERR timeout is negative"
	msgPubSubContext   = "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	msgUnknownCommand  = "ERR unknown command '%.128s', with args beginning with: %s"
	msgUnknownSubcmd   = "ERR unknown subcommand '%.128s'. Try %s HELP."
	msgSubcmdSyntax    = "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP."
	msgWrongArgs       = "ERR wrong number of arguments for '%s' command"
	msgNoMulti         = "ERR Command not allowed inside a transaction"
	msgLFUNotSelected  = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	msgExpireOptions   = "ERR NX and XX, GT or LT options at the same time are not compatible"
	msgExpireGTLT      = "ERR GT and LT options at the same time are not compatible"
	msgBadCursor       = "ERR invalid cursor"
	msgShutdownNoSave  = "ERR Errors trying to SHUTDOWN. Check logs."
)

// Connection, CLIENT, COMMAND and other introspection.
const (
	msgHelloProtoNotInt = "ERR Protocol version is not an integer or out of range"
	msgHelloSyntax      = "ERR Syntax error in HELLO option '%s'"
	msgHelloNoAuth      = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"

	msgUnknownClientType = "ERR Unknown client type '%s'"
	msgInvalidClientID   = "ERR Invalid client ID"
	msgClientIDPositive  = "ERR client-id should be greater than 0"
	msgNoSuchUser        = "ERR No such user '%s'"
	msgPauseMode         = "ERR CLIENT PAUSE mode must be WRITE or ALL"
	msgUnblockReason     = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	// CLIENT SETINFO (Redis 7.2): the attribute is printed as given.
	msgSetinfoOption  = "ERR Unrecognized option '%s'"
	msgSetinfoInvalid = "ERR %s cannot contain spaces, newlines or special characters."

	msgTrackingOneRedirect = "ERR A client can only redirect to a single other client"
	msgTrackingNoRedirect  = "ERR The client ID you want redirect to does not exist"
	msgCachingNoTracking   = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
	// Runnel's own: it has no server-assisted client-side caching.
	msgTrackingUnsupported = "ERR client-side caching (CLIENT TRACKING ON) is not supported by this server"

	msgGetkeysInvalidCommand = "ERR Invalid command specified"
	msgGetkeysNoKeys         = "ERR The command has no key arguments"
	msgGetkeysArity          = "ERR Invalid number of arguments specified for command"
	msgGetkeysInvalidArgs    = "ERR Invalid arguments specified for command"

	msgSlowlogCount        = "ERR count should be greater than or equal to -1"
	msgMonitorDenyBlocking = "ERR MONITOR isn't allowed for DENY BLOCKING client"

	msgFunctionFlushMode  = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
	msgFunctionNoLibName  = "ERR library name argument was not given"
	msgFunctionUnknownArg = "ERR Unknown argument %s"
	msgFunctionNoLibrary  = "ERR Library not found"
	msgScriptFlushMode    = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
	msgNotBusy            = "NOTBUSY No scripts in execution right now."
	// Runnel's own: it has no Lua engine.
	msgScriptingUnsupported = "ERR scripting is not supported by this server (no Lua engine)"
)

// Keyspace (generic group).
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

// Strings.
const (
	msgDecrOverflow  = "ERR decrement would overflow"
	msgLCSNotStrings = "ERR The specified keys must contain string values"
	msgLCSLenAndIdx  = "ERR If you want both the length and indexes, please just use IDX."
	msgLCSTooLong    = "ERR String too long for LCS"
	msgLCSMemory     = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// Transactions and pub/sub.
const (
	msgSSubscribeDenyBlocking = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
	// msgExecAbortBecause prefixes the reason an EXEC was rejected.
	msgExecAbortBecause = "EXECABORT Transaction discarded because of: "
)
