package ops

import "errors"

// ErrConfig is wrapped by Mount's errors about its Config.
var ErrConfig = errors.New("ops: bad config")
