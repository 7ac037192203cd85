package forward

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
)

// Shared-key handshake, Forward protocol v1:
//
//	server: ["HELO", {"nonce": bin16, "auth": "", "keepalive": true}]
//	client: ["PING", hostname, salt, hex(sha512(salt+hostname+nonce+key)), username, password_digest]
//	server: ["PONG", true, "", self_hostname, hex(sha512(salt+self_hostname+nonce+key))]
//	        or ["PONG", false, reason, "", ""] and the connection is closed.
//
// User authentication (username/password) is not supported: "auth" is
// empty, which tells clients to send empty credentials; any sent are
// ignored.

var errAuth = errors.New("shared key mismatch")

// appendStr appends a msgpack str.
func appendStr(dst []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n < 1<<8:
		dst = append(dst, 0xd9, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xda)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0xdb)
		dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	return append(dst, s...)
}

// newNonce returns 16 random bytes.
func newNonce() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// heloFrame encodes HELO with nonce.
func heloFrame(nonce []byte) []byte {
	b := []byte{0x92}
	b = appendStr(b, "HELO")
	b = append(b, 0x83)
	b = appendStr(b, "nonce")
	b = append(b, 0xc4, byte(len(nonce)))
	b = append(b, nonce...)
	b = appendStr(b, "auth")
	b = appendStr(b, "")
	b = appendStr(b, "keepalive")
	return append(b, 0xc3)
}

// sharedKeyDigest is hex(sha512(salt + hostname + nonce + key)).
func sharedKeyDigest(salt, hostname, nonce []byte, key string) string {
	h := sha512.New()
	h.Write(salt)
	h.Write(hostname)
	h.Write(nonce)
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// pongFrame encodes PONG.
func pongFrame(ok bool, reason, hostname, digest string) []byte {
	b := []byte{0x95}
	b = appendStr(b, "PONG")
	if ok {
		b = append(b, 0xc3)
	} else {
		b = append(b, 0xc2)
	}
	b = appendStr(b, reason)
	b = appendStr(b, hostname)
	return appendStr(b, digest)
}

// checkPing verifies a PING frame against nonce and key. It returns the
// client's salt (for the PONG digest) and, on failure, the reason sent back.
func checkPing(b, nonce []byte, key string) (salt []byte, reason string) {
	var v mval
	i, err := head(b, 0, &v)
	if err != nil || v.kind != mkArray || v.n != 6 {
		return nil, "invalid ping message"
	}
	fields := [6][]byte{}
	for k := range fields {
		if i, err = head(b, i, &v); err != nil || (v.kind != mkStr && v.kind != mkBin) {
			return nil, "invalid ping message"
		}
		fields[k] = v.raw
	}
	if string(fields[0]) != "PING" {
		return nil, "invalid ping message"
	}
	hostname, salt, digest := fields[1], fields[2], fields[3]
	want := sharedKeyDigest(salt, hostname, nonce, key)
	if subtle.ConstantTimeCompare([]byte(want), digest) != 1 {
		return nil, "shared_key mismatch"
	}
	return salt, ""
}
