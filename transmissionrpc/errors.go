package transmissionrpc

import "errors"

var (
	errMissingFields = errors.New("no fields specified")
	errBadFormat     = errors.New(`format must be "objects" or "table"`)
)
