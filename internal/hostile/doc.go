// Package hostile holds the hostile-client test group: probes that attack
// a real cmd/plezi process over real sockets, the way an untrusted client
// on the internet would, and check that the process neither crashes, hangs
// nor grows without bound, and answers each attack as documented.
//
// The package has no code of its own outside its tests. TestMain builds
// cmd/plezi once (go build, from the module root that `go env GOMOD`
// names); each test starts the binary on a free port with its own flags and
// environment (start, startEnv; startNofile runs it under prlimit with a
// lower open-file limit), and the harness fails the test when the
// process died before the test stopped it, did not exit 0 after SIGTERM,
// or logged a panic. Probes read the process's own figures: RSS and its
// peak from /proc/PID/status, open descriptors from /proc/PID/fd, its
// open-file limit from /proc/PID/limits, and the server's counters from
// /debug/stats (with -debug). Probes with two nodes share a redis-server
// of their own (startRedis, on a unix socket; runRedis for one a probe
// kills): cmd/plezi has no key prefix setting, so nodes on a shared
// Redis would hear each other.
//
// Probe classes, one file each:
//
//   - hostile_http_test.go: request heads (oversized, many headers, a head
//     that never ends, byte by byte); absolute-form targets, methods the
//     builtins refuse (405), two Origin headers (403).
//   - hostile_frames_test.go: websocket framing (bad framing and reserved
//     bits → 1002 and a closed socket, frames byte by byte).
//   - hostile_close_test.go: the close handshake (invalid close frames →
//     1002 or 1007; protocol errors fed one byte per write → 1002 with
//     nothing parsed after it), each followed by the server's TCP close
//     within 500 ms, unanswered (its CloseTimeout is 3 s).
//   - hostile_events_test.go: the JSON event protocol (text that is not
//     an event → 1007; crafted connection ids → 404, never a crash;
//     server-only methods and the chat's server-only announce → 404,
//     counted as denied; a plain error, tell with the node's Redis killed
//     → 500 "internal error" and a ref that the log line carries).
//   - hostile_cluster_test.go: two nodes over Redis (crafted ids that
//     name the other node never crash it).
//   - hostile_exhaustion_test.go: memory and descriptors (inflate bombs
//     with -compress → 1009 and bounded RSS, connection churn → no
//     descriptor left behind, a flood at the open-file limit → shed, not
//     dead; -max-conns counts plain TCP; a mailbox flood stays bounded).
//   - hostile_backpressure_test.go: clients that send and never read
//     (pipelined HTTP, a ping flood) are paused, then closed, within
//     bounded RSS; a member flooding a chat room is throttled or held and
//     closed, and the members that read are not cut.
//   - hostile_partial_test.go: messages begun and never finished fill
//     the node-wide cap (-max-partial-bytes 8 MiB; partial_bytes) and the
//     next is failed with 1013; with -message-timeout 500ms a message
//     trickled a byte every 100 ms is failed with 1008 about then
//     (message_timeouts).
//   - hostile_static_test.go: -static with a 64 MiB file (HEAD reads
//     nothing, GET streams within StaticBuffer to a client that stalls).
//   - hostile_exposure_test.go: what is reachable by default (/unicast
//     and /debug unmounted, the demo chat's nicknames cannot be taken over).
//   - hostile_flags_test.go: start-up settings (a bad flag or PL_ value
//     exits 1 with one line; -help exits 0).
//
// Counters are read from /debug/stats (start with -debug), whose keys are
// the snake_case names of the server.Stats and dispatch.Stats fields; a
// probe asserts from them and from the wire, not from timing alone.
//
// The binary is built without -race so that memory figures mean what they
// say; run the group with
//
//	go test -race -count=1 ./internal/hostile/
//
// HOSTILE_BIN=/path/to/plezi runs the probes against that binary instead
// (an older build, to see a probe fail before its fix).
package hostile
