package wal

// SpaceFS is an FS that can tell the room left on the volume holding a
// directory: a queue refused for a full volume (ENOSPC) asks it whether
// room came back from elsewhere (another queue on the volume, files
// deleted by hand, the volume grown), rather than waiting for its own
// next write, which a load balancer that took the replica out never sends.
type SpaceFS interface {
	FS
	// FreeBytes returns the bytes an unprivileged writer can still use on
	// the volume of dir.
	FreeBytes(dir string) (int64, error)
}
