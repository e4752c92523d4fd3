package browser

import "errors"

// ErrNotFound means no Chromium binary is where Find looks: install the
// Debian package "chromium" (scripts/test.sh does) or point PL_CHROMIUM at one.
var ErrNotFound = errors.New("browser: chromium not found")
