package command

// Error texts of the connection and introspection commands, checked
// against redis-server 7.0.15 (to be merged into errors.go).
const (
	msgHelloProtoNotInt = "ERR Protocol version is not an integer or out of range"
	msgHelloSyntax      = "ERR Syntax error in HELLO option '%s'"
	// The 7.0.15 text; errors.go's msgHelloNoAuth has a "<proto>" that
	// Redis 7.0 does not print.
	msgHelloNoAuthRedis = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"

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
