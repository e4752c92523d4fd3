// Package push is the push server of cmd/plezi: a websocket endpoint with
// a small JSON protocol for browsers and devices, and an HTTP API with an
// API key for backends in any language. Everything goes through package
// dispatch (Publish, Multicast, BroadcastTo, Unicast, NotifyErr,
// RegisterAs): semantics, delivery guarantees and the cluster are the
// library's.
//
//	srv := server.New(server.Config{Addr: ":3000"})
//	svc, err := push.Mount(srv, push.Config{JWTSecret: secret, ClientPublish: []string{"chat:*"}})
//	go svc.Run(ctx) // start-up log, cluster-wide stats
//	err = srv.Run(ctx)
//
// # The /push protocol (JSON text frames)
//
//	server → client  {"event":"welcome","id":"<connection id>"}          on open, "ttl_ms" too when the token expires
//	client → server  {"event":"subscribe","channel":"news","_EID_":1}
//	server → client  {"event":"_ack_","_EID_":1}                          or _err_ with a status
//	client → server  {"event":"unsubscribe","channel":"news","_EID_":2}
//	server → client  {"event":"message","channel":"news","data":<json>}   one publish
//	client → server  {"event":"publish","channel":"chat:1","data":<json>} where ClientPublish allows
//	client → server  {"event":"register","token":"<JWT>","after":"41"}    joins the token's sub
//	server → client  {"event":"_ack_","_EID_":3,"data":{"identity":"ann"}}
//	client → server  {"event":"refresh","token":"<JWT>","_EID_":4}       a new token, same sub
//	server → client  {"event":"_ack_","_EID_":4,"data":{"ttl_ms":3600000}}
//	server → client  {"event":"notify","id":"42","identity":"ann","data":<json>}
//	server → client  {"event":"<name>","args":[...]}                      multicast, broadcast, unicast
//
// "_EID_" is optional on every client frame; without it nothing is acked
// (errors still are). Error statuses: 400 a missing or malformed field,
// 401 a register or refresh token that does not check out, 403 a channel
// the token does not allow, client publishing refused, register or
// refresh without a JWT key, or a refresh for a subject the connection
// holds no token of, 404 an unknown event, 429 past MaxChannels or MaxIdentities, 503
// the identity store failed. A frame that is not a JSON event answers
// _err_ 400 and closes with 1007; a binary frame closes with 1003.
//
// A notification carries "name" when the backend named it (other than
// "notify") and "gap":n when the mailbox dropped n older ones first. A
// publish is encoded once and the same bytes go to every subscriber.
//
// # Auth
//
// With a JWT key (HS256 secret, or an RSA / P-256 public key for RS256 /
// ES256), checked by github.com/golang-jwt/jwt/v5 with the algorithm
// pinned, a connection presents a token as ?token= or "Authorization:
// Bearer"; a missing, malformed, expired, not yet valid, wrongly signed,
// wrong-audience or wrong-issuer token is refused with 401 before the
// upgrade. Claims: "channels" (globs, as dispatch.MatchGlob) limits
// subscribe and publish; "sub" is the identity register joins;
// "lifetime" (seconds) and "max_connections" set the registration.
// Without a key connections are anonymous and register is refused.
//
// # Token expiry
//
// A connection is closed with CloseTokenExpired (4010) once the earliest
// of its tokens (the connection's, the registers') is past its "exp" plus
// Config.JWTLeeway; "ttl_ms" in the welcome and the register and refresh
// acks is the time left. A refresh with a valid token for the same "sub"
// replaces the tokens of that subject and moves the expiry; one that does
// not check out (401) or names another subject (403) moves nothing. Each
// node keeps one heap of deadlines and one timer (Stats.Expiring).
//
// # HTTP API
//
// POST <prefix>/publish, multicast, broadcast, unicast, notify,
// disconnect, batch and GET <prefix>/stats, authenticated by the API key
// (X-API-Key or "Authorization: apikey"), compared as SHA-256 digests in
// constant time. Answers are JSON: 401 without the key, 400 naming the
// field of a bad body, 413 past MaxBody or MaxBatch, 405 for a wrong
// method, 503 when the identity store fails (never "registered":false).
// See the README's push server section for each body and answer.
//
// Stats: each node shares its counts over the server's broker every
// StatsEvery (topic "push:stats"); /api/stats answers from the latest of
// each node, at most MaxNodes of them.
package push
