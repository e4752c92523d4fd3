// Package cluster implements dispatch.Broker and dispatch.Identities, and
// turns a URL into one: FromURL ("" → Memory, redis://… → Redis), the
// value a program sets as server.Config.Broker and closes after Run.
//
// Memory is the in-process backend: several servers in one process sharing
// one Memory behave as the nodes of a cluster (tests use this). Its
// identity half is dispatch.MemoryIdentities, which a server with no
// broker at all keeps for itself. The Redis implementation shares the same
// semantics across processes and machines.
package cluster
