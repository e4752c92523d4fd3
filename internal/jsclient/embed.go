package jsclient

import _ "embed" // for the go:embed directive below

// Source is the text of plezi.js (UTF-8 JavaScript). It is shared and
// read-only: callers may write it to any number of connections from any
// goroutine, and must never modify it.
//
//go:embed plezi.js
var Source []byte

// ContentType is the media type to serve Source with.
const ContentType = "text/javascript; charset=utf-8"

// Declarations is the text of plezi.d.ts, TypeScript declarations for
// plezi.js, served at GET /plezi.d.ts. Shared and read-only like Source.
//
//go:embed plezi.d.ts
var Declarations []byte

// DeclarationsType is the media type to serve Declarations with.
const DeclarationsType = "application/typescript; charset=utf-8"
