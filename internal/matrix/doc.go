// Package matrix holds the delivery matrix test: every delivery primitive
// of package dispatch, sent from every node to every node, on three
// cluster topologies, checked at the clients over real websockets.
//
// The package has no code of its own outside its tests.
//
// Primitives (the "kind" of a cell): Multicast (mc), Broadcast (bc),
// Unicast (uc), Notify (nt), Publish on a channel (pub) and Publish
// matched by a pattern subscription (ppub). Senders: each node's hub
// (srv.Hub(), driven through the node's /send handler) and a controller
// on each node's worker route (/w) and inline route (/i), driven by a
// client event. Receivers: a client on /w and /i of every node (controller
// type Peer: subscribed to the test channel and pattern, registered as an
// identity), and one on /o (type Other, which only Multicast reaches).
// Multicast, Broadcast and Unicast reach Peer's Rx method, which writes
// the tag back to its client, so worker and inline routes run the
// delivery in their own context; Other gets the forwarded JSON frame;
// notes and publishes are written to the client as they are.
//
// Every message carries a tag "kind|sender|seq". Each receiving client
// keeps, per (kind, sender), which seqs arrived, how many twice
// (duplicates) and how many after a higher one (inversions); a cell passes
// when its receiver got every seq of the burst exactly once and in order,
// and no receiver got a cell it should not (exclusion: a controller's own
// Multicast and Broadcast, Broadcast to Other, publishes to Other).
//
// Every cell of a topology runs at once, within a flow control that
// keeps each node below the bounds that drop by design (the hub's
// 4096-envelope cluster queue, a connection's 256-id note window): a cell
// sends its next 100 seqs when every receiver has the last ones, and the
// Notify cells move in lockstep by 40 (flow_test.go). MATRIX_WINDOW=n
// lifts it (every cell free-running in windows of n; 1000 sends each
// burst whole), to see those bounds hit. Inline controllers do not
// Notify: RegisterAs and Notify wait for the identity store and belong on
// worker routes. The summary logs the table (a row per burst, a column
// per receiver) and each node's counters.
//
// Topologies: one node with no broker; three nodes on one Redis
// (127.0.0.1:6379, a fresh key prefix), each node a separate process (the
// test binary re-executed with MATRIX_NODE set, see TestMain); three
// in-process nodes on a three-master Redis Cluster that TestMain's run
// starts on free ports (redis-server --cluster-enabled yes, redis-cli
// --cluster create) and stops at the end.
//
// TestUnicastGone covers the failure half of Unicast's contract: a
// Unicast to a connection that is gone (closed on the sender's node, on
// another live node, or on a node that stopped) reaches the sender's
// OnUnicastFailed exactly once for each, in order.
package matrix
