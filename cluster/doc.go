// Package cluster implements dispatch.Broker and dispatch.Identities.
//
// Memory is the embedded default: one process, no setup. Several servers in
// one process may share one Memory and then behave as the nodes of a cluster
// (tests use this). The Redis implementation shares the same semantics
// across processes and machines.
package cluster
