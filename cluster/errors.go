package cluster

import "errors"

// ErrBadURL is FromURL's answer to a URL that names no backend (a scheme
// other than redis://, rediss://, unix:// and redis+cluster://).
var ErrBadURL = errors.New("cluster: not a broker URL (want redis://, rediss://, unix:// or redis+cluster://)")
