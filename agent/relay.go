package agent

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"sync"
)

// maxBacklog bounds the output lines kept while no connection is open.
const maxBacklog = 4096

// relay joins one TCP connection to the supervised process's stdin and
// stdout, line by line. A new connection replaces the old; the
// connection outlives process restarts. Output written while no
// connection is open (a campaigner's "ready" comes before the harness
// connects) is kept and sent first on the next connection.
type relay struct {
	log     *slog.Logger
	toStdin func(line []byte) error

	mu      sync.Mutex
	conn    net.Conn
	backlog [][]byte
	dropped int
}

// serve accepts connections until ln is closed.
func (r *relay) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		if r.conn != nil {
			r.conn.Close()
		}
		for _, line := range r.backlog {
			if _, err := c.Write(line); err != nil {
				r.log.Warn("relaying kept output", "err", err)
				break
			}
		}
		r.backlog = nil
		r.conn = c
		r.mu.Unlock()
		go r.fromConn(c)
	}
}

// fromConn copies lines from the connection to the process's stdin.
func (r *relay) fromConn(c net.Conn) {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := append(append([]byte{}, sc.Bytes()...), '\n')
		if err := r.toStdin(line); err != nil {
			r.log.Warn("command not delivered", "err", err)
		}
	}
	r.mu.Lock()
	if r.conn == c {
		r.conn = nil
	}
	r.mu.Unlock()
	c.Close()
}

// fromProcess copies lines from one process's stdout to the connection.
func (r *relay) fromProcess(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := append(append([]byte{}, sc.Bytes()...), '\n')
		r.mu.Lock()
		c := r.conn
		if c == nil {
			if len(r.backlog) < maxBacklog {
				r.backlog = append(r.backlog, line)
			} else {
				r.dropped++
				if r.dropped == 1 || r.dropped%100 == 0 {
					r.log.Warn("process output dropped: no connection and the backlog is full", "lines", r.dropped)
				}
			}
		}
		r.mu.Unlock()
		if c != nil {
			if _, err := c.Write(line); err != nil {
				r.log.Warn("relaying output", "err", err)
			}
		}
	}
}

func (r *relay) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
}
