package parse

import "time"

// RedisParser parses the Redis server log line (server.c, serverLogRaw):
//
//	pid:role dd Mon yyyy hh:mm:ss.mmm L message
//	1:M 25 Nov 2026 10:00:00.123 * Ready to accept connections tcp
//
// role is X (sentinel), C (child: RDB/AOF rewrite), S (replica) or M
// (master); L is the level mark, kept raw in Level: '.' debug, '-' verbose,
// '*' notice, '#' warning (LevelScheme LevelRedis).
// The time is local (TimeLocal). pid goes to Extra "pid" and the role,
// spelled out, to Extra "role".
type RedisParser struct{}

// Name implements Parser.
func (*RedisParser) Name() string { return "redis" }

var (
	redisKeyRole = []byte("role")
	redisRoles   = [...]struct {
		c    byte
		name []byte
	}{{'M', []byte("master")}, {'S', []byte("replica")}, {'C', []byte("child")}, {'X', []byte("sentinel")}}
)

// Parse implements Parser.
func (*RedisParser) Parse(line []byte, f *Fields) bool {
	pid := appDigitsEnd(line)
	if pid == 0 || pid > 10 || len(line) < pid+25 || line[pid] != ':' || line[pid+2] != ' ' {
		return false
	}
	var role []byte
	for _, r := range redisRoles {
		if line[pid+1] == r.c {
			role = r.name
		}
	}
	if role == nil {
		return false
	}
	// "25 Nov 2026 10:00:00.123": the day may be one digit on old versions
	// (strftime %d pads, but be lenient).
	b := line[pid+3:]
	dl := appDigitsEnd(b)
	if dl < 1 || dl > 2 || len(b) < dl+20 || b[dl] != ' ' || b[dl+4] != ' ' || b[dl+9] != ' ' {
		return false
	}
	day, _ := digits(b, dl)
	mo, ok := Month(b[dl+1:])
	if !ok {
		return false
	}
	year, ok := digits(b[dl+5:], 4)
	if !ok || !validDate(year, int(mo), day, 0, 0, 0) {
		return false
	}
	clk, n, ok := Clock(b[dl+10:])
	if !ok {
		return false
	}
	rest := b[dl+10+n:]
	if len(rest) < 2 || rest[0] != ' ' || (len(rest) > 2 && rest[2] != ' ') {
		return false
	}
	switch rest[1] {
	case '.', '-', '*', '#':
	default:
		return false
	}
	f.Format = "redis"
	f.Time = time.Date(year, mo, day, 0, 0, 0, 0, time.UTC).Add(clk)
	f.HasTime, f.TimeLocal = true, true
	f.Level, f.LevelScheme = rest[1:2], LevelRedis
	if len(rest) > 3 {
		f.Message = Str(rest[3:])
	} else {
		f.Message = Str(rest[:0])
	}
	f.AddExtra(appKeyPid, Num(line[:pid]))
	f.AddExtra(redisKeyRole, Str(role))
	return true
}
