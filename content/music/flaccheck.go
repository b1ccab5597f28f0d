package music

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// checkFLAC walks a FLAC file's metadata blocks before the decoder sees
// them: the decoder allocates whatever a length or count field says
// (up to gigabytes from a damaged VORBIS_COMMENT or PICTURE block), so
// every such field must fit inside its block, and every block inside the
// file.
func checkFLAC(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "fLaC" {
		return fmt.Errorf("no FLAC signature")
	}
	off := int64(4)
	for n := 0; ; n++ {
		var h [4]byte
		if _, err := f.ReadAt(h[:], off); err != nil {
			return fmt.Errorf("metadata block %d: header cut short", n)
		}
		last, typ := h[0]&0x80 != 0, h[0]&0x7f
		length := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		off += 4
		if off+length > size {
			return fmt.Errorf("metadata block %d claims %d bytes; the file has %d left", n, length, size-off)
		}
		if typ == 4 || typ == 6 {
			body := make([]byte, length) // at most 16 MiB, and within the file
			if _, err := f.ReadAt(body, off); err != nil {
				return fmt.Errorf("metadata block %d: %v", n, err)
			}
			if err := checkBlock(typ, body); err != nil {
				return fmt.Errorf("metadata block %d: %v", n, err)
			}
		}
		off += length
		if last {
			break
		}
		if n > 1000 {
			return fmt.Errorf("more than 1000 metadata blocks")
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// checkBlock checks the length fields of a VORBIS_COMMENT (4) or PICTURE
// (6) block against the block's own size.
func checkBlock(typ byte, b []byte) error {
	pos := 0
	field := func(what string, order binary.ByteOrder) (int, error) {
		if len(b)-pos < 4 {
			return 0, fmt.Errorf("%s cut short", what)
		}
		v := int(order.Uint32(b[pos:]))
		pos += 4
		return v, nil
	}
	skip := func(what string, order binary.ByteOrder) error {
		n, err := field(what+" length", order)
		if err != nil {
			return err
		}
		if n > len(b)-pos {
			return fmt.Errorf("%s length %d is more than the %d bytes left in the block", what, n, len(b)-pos)
		}
		pos += n
		return nil
	}
	if typ == 4 {
		le := binary.LittleEndian
		if err := skip("vendor", le); err != nil {
			return err
		}
		count, err := field("comment count", le)
		if err != nil {
			return err
		}
		if count > (len(b)-pos)/4 {
			return fmt.Errorf("comment count %d cannot fit in the %d bytes left", count, len(b)-pos)
		}
		for i := range count {
			if err := skip(fmt.Sprintf("comment %d", i), le); err != nil {
				return err
			}
		}
		return nil
	}
	be := binary.BigEndian
	if _, err := field("picture type", be); err != nil {
		return err
	}
	for _, what := range []string{"MIME type", "description"} {
		if err := skip(what, be); err != nil {
			return err
		}
	}
	for _, what := range []string{"width", "height", "depth", "colours"} {
		if _, err := field(what, be); err != nil {
			return err
		}
	}
	return skip("picture data", be)
}
