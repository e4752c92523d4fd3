package main

// The push server's settings (package internal/push), each with its PL_
// twin like every setting (flags.go).

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// pushOptions are the push server's settings and -demo.
type pushOptions struct {
	demo                                  bool
	apiKey, jwtSecret, jwtPublicKey       string
	jwtAudience, jwtIssuer, clientPublish string
}

// Bounds of the push secrets.
const (
	minAPIKey    = 16  // bytes
	maxAPIKey    = 256 // bytes: it travels in a header
	minJWTSecret = 32  // bytes: HS256 wants a key as long as its hash
)

func (p *pushOptions) settings() []setting {
	return []setting{
		{"demo", "mount the demo: chat page at /, /echo, /demo/push, /chat/:room (and /unicast with -unicast)", boolValue(&p.demo)},
		{"api-key", "`key` of the HTTP API, /metrics and the status page (X-API-Key or Authorization: apikey); empty = a random one for this run, logged at start", apiKeyValue(&p.apiKey)},
		{"jwt-secret", "HS256 `secret` of connection tokens; empty (and no -jwt-public-key) = anonymous connections", secretValue(&p.jwtSecret, minJWTSecret)},
		{"jwt-public-key", "PEM `file`: RSA (RS256) or P-256 (ES256) public key of connection tokens", pemFileValue(&p.jwtPublicKey)},
		{"jwt-audience", "`aud` every token must name", textValue(&p.jwtAudience)},
		{"jwt-issuer", "`iss` every token must have", textValue(&p.jwtIssuer)},
		{"client-publish", "comma-separated channel `globs` clients may publish to, such as 'chat:*'; empty = none", globsValue(&p.clientPublish)},
	}
}

// globs is -client-publish as a list.
func (p *pushOptions) globs() []string {
	var out []string
	for _, g := range strings.Split(p.clientPublish, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// apiKeyValue is the -api-key setting: visible ASCII without spaces (it
// travels in a header), 16 to 256 bytes, or empty.
func apiKeyValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		return s == "" || len(s) >= minAPIKey && len(s) <= maxAPIKey &&
			!strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' })
	}, want: fmt.Sprintf("%d to %d visible ASCII characters, no spaces", minAPIKey, maxAPIKey)}
}

func secretValue(p *string, minLen int) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		return s == "" || len(s) >= minLen && strings.TrimSpace(s) == s
	}, want: fmt.Sprintf("at least %d bytes without surrounding spaces (a random string)", minLen)}
}

func pemFileValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		st, err := os.Stat(s)
		return s == "" || err == nil && st.Mode().IsRegular()
	}, want: "an existing file"}
}

func textValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		return strings.TrimSpace(s) == s && !strings.ContainsAny(s, "\r\n")
	}, want: "one line without surrounding spaces"}
}

func globsValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		for _, g := range strings.Split(s, ",") {
			if strings.TrimSpace(g) == "" && strings.Contains(s, ",") {
				return false
			}
		}
		return !strings.ContainsAny(s, "\r\n")
	}, want: `comma-separated channel globs such as 'chat:*' or 'news,alerts:*'`}
}
