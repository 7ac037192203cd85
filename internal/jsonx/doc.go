// Package jsonx holds append-style JSON encoding helpers that produce
// correct JSON from any bytes.
//
// Every function appends to dst and returns the extended slice, like
// strconv.AppendInt; none keeps a reference to its input, and the package
// has no mutable state, so all functions are safe for concurrent use.
//
// String encoding (AppendString, AppendStringBody, AppendStr) accepts
// arbitrary bytes and always yields a valid JSON string: '"' and '\' are
// escaped, \n, \r and \t use their short escapes, other bytes below 0x20
// become \u00XX, each byte of invalid UTF-8 becomes \ufffd, and U+2028 and
// U+2029 are escaped so the output is also safe JavaScript. Valid non-ASCII
// text and DEL (0x7f) are copied as they are; '<', '>' and '&' are not
// escaped (the output is not HTML-safe). AppendStringBody omits the quotes.
//
// The other helpers trust their caller:
//
//   - AppendKey writes `"key":` without escaping: key must be a constant
//     known not to need escaping.
//   - AppendRawJSON expects a structurally valid JSON value (gjson-validated)
//     and only repairs bytes: inside strings, raw control bytes become
//     \u00XX and invalid UTF-8 bytes become \ufffd; control bytes between
//     tokens become spaces. It does not check structure and does not escape
//     U+2028/U+2029.
//   - AppendFloat uses strconv's 'f' format with the shortest exact
//     representation: no exponent and no trailing zeros, so very large or
//     very small magnitudes produce long digit strings. NaN and ±Inf have no
//     JSON form; callers must not pass them.
package jsonx
