package bench

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// RedisInfo is what the benchmarks read from a Redis INFO: the broker's
// share of the work during a run is the difference of two readings.
type RedisInfo struct {
	Publish int64   // PUBLISH commands served (cmdstat_publish calls)
	CPU     float64 // used_cpu_sys + used_cpu_user, seconds
}

// ReadRedisInfo asks the Redis at addr ("host:port") for INFO cpu and INFO
// commandstats over a fresh connection (3 s timeout). A minimal RESP
// client: two inline commands, two bulk replies. Safe from any goroutine.
func ReadRedisInfo(ctx context.Context, addr string) (RedisInfo, error) {
	var ri RedisInfo
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ri, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err = io.WriteString(c, "INFO cpu\r\nINFO commandstats\r\n"); err != nil {
		return ri, err
	}
	r := bufio.NewReader(c)
	for range 2 {
		text, err := readBulk(r)
		if err != nil {
			return ri, err
		}
		ri.parse(text)
	}
	return ri, nil
}

// readBulk reads one RESP bulk string reply.
func readBulk(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return "", Error("bench: redis answered " + strconv.Quote(line))
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", ErrProtocol
	}
	b := make([]byte, n+2)
	if _, err = io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b[:n]), nil
}

// parse takes the fields it knows from INFO text.
func (ri *RedisInfo) parse(text string) {
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_cpu_sys", "used_cpu_user":
			f, _ := strconv.ParseFloat(v, 64)
			ri.CPU += f
		case "cmdstat_publish":
			for _, kv := range strings.Split(v, ",") {
				if n, ok := strings.CutPrefix(kv, "calls="); ok {
					ri.Publish, _ = strconv.ParseInt(n, 10, 64)
				}
			}
		}
	}
}
