package forward

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/stretchr/testify/require"
)

// readMsg reads one complete msgpack element from c.
func readMsg(t *testing.T, c net.Conn) []byte {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	var buf []byte
	var sc scanner
	for {
		tmp := make([]byte, 512)
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if done, serr := sc.scan(buf); serr == nil && done {
			return buf[:sc.off]
		}
		require.NoError(t, err)
	}
}

// elems splits a msgpack array of scalars into its elements.
func elems(t *testing.T, b []byte) []mval {
	t.Helper()
	var v mval
	i, err := head(b, 0, &v)
	require.NoError(t, err)
	require.Equal(t, mkArray, v.kind)
	out := make([]mval, v.n)
	for k := range out {
		start := i
		i, err = head(b, i, &out[k])
		require.NoError(t, err)
		if out[k].kind == mkMap {
			out[k].raw = b[start:]
			i, err = skip(b, start)
			require.NoError(t, err)
		}
	}
	return out
}

// clientHandshake plays the client side; it returns the PONG elements.
func clientHandshake(t *testing.T, c net.Conn, key, hostname string) []mval {
	t.Helper()
	helo := elems(t, readMsg(t, c))
	require.Len(t, helo, 2)
	require.Equal(t, "HELO", string(helo[0].raw))
	opts := helo[1].raw
	var v mval
	i, err := head(opts, 0, &v)
	require.NoError(t, err)
	var nonce []byte
	for range v.n {
		var k, val mval
		i, _ = head(opts, i, &k)
		i, _ = head(opts, i, &val)
		if string(k.raw) == "nonce" {
			require.Equal(t, mkBin, val.kind)
			nonce = val.raw
		}
	}
	require.Len(t, nonce, 16)
	salt := []byte("0123456789abcdef")
	ping := mp{}.arr(6).str("PING").str(hostname).str(string(salt)).
		str(sharedKeyDigest(salt, []byte(hostname), nonce, key)).str("").str("")
	_, err = c.Write(ping)
	require.NoError(t, err)
	pong := elems(t, readMsg(t, c))
	require.Len(t, pong, 5)
	require.Equal(t, "PONG", string(pong[0].raw))
	if pong[1].b {
		require.Equal(t, "server.example", string(pong[3].raw))
		require.Equal(t, sharedKeyDigest(salt, []byte("server.example"), nonce, key), string(pong[4].raw))
	}
	return pong
}

func TestSharedKeyHandshake(t *testing.T) {
	cfg := testConfig()
	cfg.SharedKey = "s3cret"
	cfg.SelfHostname = "server.example"
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)

	t.Run("success", func(t *testing.T) {
		c := dial(t, r)
		pong := clientHandshake(t, c, "s3cret", "client.example")
		require.True(t, pong[1].b, "auth result")
		_, err := c.Write(chunkFrame("app", "after handshake", "k1"))
		require.NoError(t, err)
		chunk, ok, err := (&ackReader{c: c}).next(t, 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "k1", chunk)
		require.Equal(t, "after handshake", lanes.waitLines(t, 1)[0].fields["msg"])
	})
	t.Run("wrong key", func(t *testing.T) {
		c := dial(t, r)
		pong := clientHandshake(t, c, "wrong", "client.example")
		require.False(t, pong[1].b)
		require.Equal(t, "shared_key mismatch", string(pong[2].raw))
		_, err := c.Read(make([]byte, 1))
		require.Error(t, err, "closed after a failed handshake")
		require.EqualValues(t, 1, r.src.Stats().AuthFailures.Load())
	})
	t.Run("data instead of PING", func(t *testing.T) {
		c := dial(t, r)
		readMsg(t, c) // HELO
		_, err := c.Write(mp{}.arr(3).str("app").int(1).kv("msg", "sneaky"))
		require.NoError(t, err)
		pong := elems(t, readMsg(t, c))
		require.False(t, pong[1].b)
		require.EqualValues(t, 2, r.src.Stats().AuthFailures.Load())
		require.Len(t, lanes.snapshot(), 1, "nothing accepted before the handshake")
	})
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "logshipd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	cfg := testConfig()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = selfSigned(t)
	lanes := newFakeLanes(t)
	r := start(t, cfg, lanes)

	t.Run("fluent-logger over tls with acks", func(t *testing.T) {
		logger, err := fluent.New(fluent.Config{FluentNetwork: "tls", FluentHost: "127.0.0.1", FluentPort: r.port(),
			TlsInsecureSkipVerify: true, RequestAck: true, SubSecondPrecision: true, MaxRetry: 3, RetryWait: 50,
			ReadTimeout: 5 * time.Second})
		require.NoError(t, err)
		require.NoError(t, logger.PostWithTime("secure", t0, map[string]string{"msg": "over tls"}))
		require.NoError(t, logger.Close())
		got := lanes.waitLines(t, 1)
		require.Equal(t, "over tls", got[0].fields["msg"])
		require.Equal(t, "2026-08-01T10:30:45.123456789Z", got[0].fields["time"])
	})
	t.Run("plaintext client fails the TLS handshake", func(t *testing.T) {
		c := dial(t, r)
		_, err := c.Write(mp{}.arr(3).str("plain").int(1).kv("msg", "x"))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, _ = c.Read(make([]byte, 512)) // a TLS alert, then close
		eventually(t, func() bool { return r.src.Stats().TLSErrors.Load() == 1 }, "tls error counted")
		require.Len(t, lanes.snapshot(), 1)
	})
	t.Run("verified client", func(t *testing.T) {
		pool := x509.NewCertPool()
		pemBytes, err := os.ReadFile(cfg.TLS.CertFile)
		require.NoError(t, err)
		require.True(t, pool.AppendCertsFromPEM(pemBytes))
		c, err := tls.Dial("tcp", r.src.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write(chunkFrame("secure", "verified", "t1"))
		require.NoError(t, err)
		chunk, ok, err := (&ackReader{c: c}).next(t, 5*time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "t1", chunk)
	})
}

func TestTLSClientCA(t *testing.T) {
	cfg := testConfig()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = selfSigned(t)
	cfg.TLS.ClientCAFile = cfg.TLS.CertFile
	r := start(t, cfg, newFakeLanes(t))
	c, err := tls.Dial("tcp", r.src.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test
	if err == nil {
		defer c.Close()
		// TLS 1.3: the client learns of the rejection on its first read.
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err = c.Read(make([]byte, 1))
	}
	require.Error(t, err, "a client without a certificate is refused")
	eventually(t, func() bool { return r.src.Stats().TLSErrors.Load() == 1 }, "tls error counted")
}
