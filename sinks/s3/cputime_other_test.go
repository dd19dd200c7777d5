//go:build !unix

package s3

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
