package main

import (
	"errors"
	"runtime/debug"
)

// version is the build's version; set it with
// -ldflags "-X main.version=v1.2.3". Empty: the module version and VCS
// revision the Go toolchain recorded (buildVersion).
var version string

// errVersion is what parse returns after -version printed the version.
var errVersion = errors.New("version printed")

// buildVersion is version, or else what the build recorded: the module's
// version, and the VCS revision (12 digits, "+dirty" when modified).
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v
}
