//go:build !race

package main

// nbio v1.6.8 races inside its own accept path (nbhttp.Engine.listen writes
// a Conn's address while its poller reads it in ServerProcessor.OnComplete),
// so the nbio peer is exercised only without the race detector.
func init() { wsPeers = append(wsPeers, "nbio") }
