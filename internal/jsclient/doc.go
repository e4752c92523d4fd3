// Package jsclient holds plezi.js, the browser client of Plezi, as bytes
// every server serves at GET /plezi.js.
//
// The script is dependency-free and needs no build step: a classic
// <script src="/plezi.js"> defines window.Plezi. It gives the browser
// emit with promise acks and timeouts, handlers by event name,
// auto-reconnect with full-jitter backoff, and identity-mailbox resume. The
// header comment of plezi.js is its reference.
package jsclient
