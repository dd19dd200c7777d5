package quarantine

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// A destination's refusal is recorded with what was written (the "event"
// metadata), and POST /admin/replay/written sends such a record back as it
// was: the bytes unchanged, with the recorded hash (the OpenSearch _id),
// priority and source type, past normalization and the rules. Anyone who
// could hand the router such a record could therefore deliver any bytes,
// logrouter.* provenance included, with any _id and priority. So the router
// seals the records it writes: "seal" is an HMAC-SHA256 (128 bits, hex) of
// the destination, the event metadata and the raw bytes under a key only the
// router holds (SealKeyFile in the quarantine directory, mode 0600). The
// replay endpoint takes a record as written only when its seal verifies;
// any other record (forged, edited, sealed by another router's key, or
// written by a release before seals) is normalized again like an input
// record, which is what replay did before records kept what was written.

// SealKeyFile is the name of the seal key in the quarantine directory.
const SealKeyFile = "seal.key"

// sealDomain separates this MAC's inputs from any other use of the key.
const sealDomain = "logrouter quarantine seal v1\n"

// sealSize is the length of a seal in bytes (hex in the record: twice that).
const sealSize = 16

// SealKey seals and verifies quarantine records. It is safe for concurrent
// use.
type SealKey struct {
	key [32]byte
}

// LoadOrCreateSealKey reads the seal key at path, creating it (32 random
// bytes, hex, mode 0600, made durable before it is used) when it does not
// exist. A file that exists but is not a key is an error: replacing it would
// silently unseal every record sealed with it.
func LoadOrCreateSealKey(path string) (*SealKey, error) {
	k, err := loadSealKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSealKey(path)
	}
	return k, err
}

func loadSealKey(path string) (*SealKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("quarantine seal key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("quarantine seal key %s is not 64 hexadecimal characters: restore it from a backup, or delete it to make a new one (records sealed with the old key then replay through normalization)", path)
	}
	// Whoever reads the key can seal records: a copy restored or made
	// with a loose mode is restricted to the owner again.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("quarantine seal key %s is readable by others (mode %v) and cannot be restricted (%v): chmod 600 it", path, st.Mode().Perm(), err)
		}
	}
	k := &SealKey{}
	copy(k.key[:], raw)
	return k, nil
}

func createSealKey(path string) (*SealKey, error) {
	k := &SealKey{}
	if _, err := rand.Read(k.key[:]); err != nil {
		return nil, fmt.Errorf("quarantine seal key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("quarantine seal key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, SealKeyFile+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("quarantine seal key: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful link it is only the spare name
	_, err = tmp.WriteString(hex.EncodeToString(k.key[:]) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, not rename: of two routers starting on one directory at
		// once, the second fails here and reads the first one's key.
		err = os.Link(tmp.Name(), path)
		switch {
		case errors.Is(err, fs.ErrExist):
			// Another router's key, or a name that is there but does
			// not read (a dangling link): never replaced.
			if k, err := loadSealKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
				return k, err
			}
			return nil, fmt.Errorf("quarantine seal key %s exists but cannot be read (a dangling link?): remove it or point it at the key", path)
		case err != nil:
			// A file system without hard links (some network and FUSE
			// ones): create the key in place, exclusively. A crash
			// before its fsync can leave a short file, which the next
			// start reports rather than replaces.
			err = writeKeyExclusive(path, k)
		}
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("quarantine seal key: %w", err)
	}
	return k, nil
}

func writeKeyExclusive(path string, k *SealKey) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(hex.EncodeToString(k.key[:]) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// seal returns the seal of a record of destination dest with event ev (its
// priority as the record states it) and raw bytes.
func (k *SealKey) seal(dest string, ev *pipeline.RejectedEvent, p pipeline.Priority, raw []byte) [sealSize]byte {
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte(sealDomain))
	writeField(m, []byte(dest))
	var fixed [25]byte
	binary.LittleEndian.PutUint64(fixed[0:], ev.Hash)
	binary.LittleEndian.PutUint64(fixed[8:], uint64(ev.Time))
	binary.LittleEndian.PutUint64(fixed[16:], uint64(ev.Ingest))
	fixed[24] = byte(p)
	m.Write(fixed[:])
	writeField(m, []byte(ev.SourceType))
	writeField(m, raw)
	if ev.Key != 0 {
		// After the raw bytes (length-prefixed): a record without a key
		// seals as records did before keys were kept.
		var k [8]byte
		binary.LittleEndian.PutUint64(k[:], ev.Key)
		m.Write(k[:])
	}
	var out [sealSize]byte
	copy(out[:], m.Sum(nil))
	return out
}

// writeField writes b with its length first, so that no two field lists
// hash the same bytes.
func writeField(h hash.Hash, b []byte) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	h.Write(b)
}

// Verify reports whether r is a record of a destination's refusal that was
// sealed with k and has not been changed since.
func (k *SealKey) Verify(r Record) bool {
	if k == nil || r.Event == nil || len(r.seal) != sealSize {
		return false
	}
	want := k.seal(r.Destination, r.Event, r.Event.Priority, r.Raw)
	return hmac.Equal(want[:], r.seal)
}

// AppendRecord is the package's AppendRecord with the record sealed by k
// (records without Event carry no seal).
func (k *SealKey) AppendRecord(dst []byte, r *pipeline.Rejected, now time.Time) []byte {
	return appendRendered(dst, r, now, k, nil)
}

// AppendTo appends r as a quarantine line (with its trailing '\n'), its seal
// included: what the replay command sends to POST /admin/replay/written.
func (r Record) AppendTo(dst []byte) []byte {
	rej := r.Rejected()
	return appendRendered(dst, &rej, r.Time, nil, r.seal)
}
