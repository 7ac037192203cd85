package normalize

import "unsafe"

// bstr views a string as bytes without copying; the bytes must not be written.
func bstr(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// sstr views bytes as a string without copying; b must not change while the
// string is in use.
func sstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
