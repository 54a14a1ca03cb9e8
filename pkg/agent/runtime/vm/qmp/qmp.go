/*
Copyright 2026 The Arcturus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package qmp is a small client for the QEMU Machine Protocol: JSON messages
// over a stream (usually the unix socket of -qmp unix:...,server=on), one
// command at a time, with asynchronous events in between.
//
// QEMU serves one QMP connection per monitor at a time, so callers connect,
// do what they need and close again rather than holding a connection.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Run states reported by query-status that callers act on. QEMU has more
// (inmigrate, postmigrate, suspended, ...); they are passed through as is.
const (
	StatusRunning       = "running"
	StatusPaused        = "paused"
	StatusPrelaunch     = "prelaunch"
	StatusShutdown      = "shutdown"
	StatusInternalError = "internal-error"
	StatusGuestPanicked = "guest-panicked"
	StatusIOError       = "io-error"
	StatusSuspended     = "suspended"
)

// eventBuffer is how many events are held for a reader that is not
// listening; events beyond it are dropped rather than stalling commands.
const eventBuffer = 64

// ErrClosed is returned by commands on a client whose connection is gone.
var ErrClosed = errors.New("qmp: connection closed")

// Error is an error QEMU returned for a command.
type Error struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *Error) Error() string { return fmt.Sprintf("qmp: %s: %s", e.Class, e.Desc) }

// Greeting is the first message QEMU sends on a new connection.
type Greeting struct {
	Version struct {
		QEMU struct {
			Major int `json:"major"`
			Minor int `json:"minor"`
			Micro int `json:"micro"`
		} `json:"qemu"`
		Package string `json:"package"`
	} `json:"version"`
	Capabilities []string `json:"capabilities"`
}

// Event is an asynchronous QMP event such as SHUTDOWN, STOP or RESUME.
type Event struct {
	Name      string
	Data      json.RawMessage
	Timestamp time.Time
}

// Status is the reply of query-status.
type Status struct {
	Status  string `json:"status"`
	Running bool   `json:"running"`
}

// message is any message QEMU sends; which fields are set tells its kind.
type message struct {
	QMP       *Greeting       `json:"QMP,omitempty"`
	Return    json.RawMessage `json:"return,omitempty"`
	Error     *Error          `json:"error,omitempty"`
	ID        json.RawMessage `json:"id,omitempty"`
	Event     string          `json:"event,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Timestamp *struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp,omitempty"`
}

type command struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments,omitempty"`
	ID        string `json:"id"`
}

// Client is a QMP connection in command mode. Its methods are safe for
// concurrent use; commands are sent one at a time.
type Client struct {
	conn     io.ReadWriteCloser
	greeting Greeting

	// sendMu serializes commands: QMP answers in order, and one command in
	// flight keeps the protocol simple to reason about.
	sendMu sync.Mutex
	nextID uint64

	mu      sync.Mutex
	pending map[string]chan message
	err     error

	events    chan Event
	done      chan struct{}
	closeOnce sync.Once
}

// Dial connects to the QMP unix socket at path and negotiates capabilities.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: dial %s: %w", path, err)
	}
	c, err := NewClient(ctx, conn)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient speaks QMP over conn (a socket, or QEMU's stdio with -qmp stdio):
// it reads the greeting and leaves negotiation mode. The client owns conn and
// closes it on error and on Close; closing conn must unblock a pending Read,
// as it does for sockets.
func NewClient(ctx context.Context, conn io.ReadWriteCloser) (*Client, error) {
	c := &Client{
		conn:    conn,
		pending: map[string]chan message{},
		events:  make(chan Event, eventBuffer),
		done:    make(chan struct{}),
	}
	greeting := make(chan *Greeting, 1)
	go c.read(greeting)

	select {
	case g := <-greeting:
		c.greeting = *g
	case <-c.done:
		c.Close()
		return nil, fmt.Errorf("qmp: waiting for greeting: %w", c.closedErr())
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("qmp: waiting for greeting: %w", ctx.Err())
	}
	if err := c.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("qmp: negotiating capabilities: %w", err)
	}
	return c, nil
}

// Greeting returns what QEMU announced when the connection opened.
func (c *Client) Greeting() Greeting { return c.greeting }

// Events delivers the events QEMU sends while the client is open. It is
// closed when the connection ends. Events that nobody reads are dropped once
// the buffer is full.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection has ended, for example after quit.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close closes the connection and waits for the reader to stop.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.conn.Close() })
	<-c.done
	return err
}

// Execute runs command with args (nil for none) and decodes the reply's
// return value into result (nil to ignore it). A QEMU error is an *Error.
func (c *Client) Execute(ctx context.Context, name string, args, result any) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()

	c.nextID++
	id := strconv.FormatUint(c.nextID, 10)
	reply := make(chan message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return fmt.Errorf("qmp: %s: %w", name, c.err)
	}
	c.pending[id] = reply
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	b, err := json.Marshal(command{Execute: name, Arguments: args, ID: id})
	if err != nil {
		return fmt.Errorf("qmp: encoding %s: %w", name, err)
	}
	if err := c.write(ctx, append(b, '\n')); err != nil {
		return fmt.Errorf("qmp: sending %s: %w", name, err)
	}

	select {
	case m := <-reply:
		if m.Error != nil {
			return m.Error
		}
		if result != nil && len(m.Return) > 0 {
			if err := json.Unmarshal(m.Return, result); err != nil {
				return fmt.Errorf("qmp: decoding reply to %s: %w", name, err)
			}
		}
		return nil
	case <-c.done:
		// The reader may have delivered the reply just before it stopped;
		// quit, for one, answers and then closes the connection.
		select {
		case m := <-reply:
			if m.Error != nil {
				return m.Error
			}
			return nil
		default:
		}
		return fmt.Errorf("qmp: %s: %w", name, c.closedErr())
	case <-ctx.Done():
		return fmt.Errorf("qmp: %s: %w", name, ctx.Err())
	}
}

// write sends b, giving up when ctx ends if conn supports deadlines.
func (c *Client) write(ctx context.Context, b []byte) error {
	if dc, ok := c.conn.(interface{ SetWriteDeadline(time.Time) error }); ok {
		if dl, ok := ctx.Deadline(); ok {
			_ = dc.SetWriteDeadline(dl)
			defer func() { _ = dc.SetWriteDeadline(time.Time{}) }()
		}
	}
	_, err := c.conn.Write(b)
	return err
}

// QueryStatus returns the VM's run state.
func (c *Client) QueryStatus(ctx context.Context) (Status, error) {
	var s Status
	err := c.Execute(ctx, "query-status", nil, &s)
	return s, err
}

// WaitEvent returns the next event with one of names (any event if none
// are given), discarding others.
func (c *Client) WaitEvent(ctx context.Context, names ...string) (Event, error) {
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return Event{}, c.closedErr()
			}
			if len(names) == 0 {
				return ev, nil
			}
			for _, n := range names {
				if ev.Name == n {
					return ev, nil
				}
			}
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// read dispatches every message QEMU sends until the connection ends.
func (c *Client) read(greeting chan<- *Greeting) {
	defer close(c.done)
	defer close(c.events)

	sc := bufio.NewScanner(c.conn)
	// Replies such as query-qmp-schema are large; allow up to 16 MiB lines.
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var err error
	for sc.Scan() {
		var m message
		if uerr := json.Unmarshal(sc.Bytes(), &m); uerr != nil {
			err = fmt.Errorf("qmp: malformed message %q: %w", truncate(sc.Bytes()), uerr)
			break
		}
		switch {
		case m.QMP != nil:
			select {
			case greeting <- m.QMP:
			default:
			}
		case m.Event != "":
			ev := Event{Name: m.Event, Data: m.Data}
			if m.Timestamp != nil {
				ev.Timestamp = time.Unix(m.Timestamp.Seconds, m.Timestamp.Microseconds*1000)
			}
			select {
			case c.events <- ev:
			default:
			}
		default:
			var id string
			if len(m.ID) > 0 {
				_ = json.Unmarshal(m.ID, &id)
			}
			c.mu.Lock()
			ch := c.pending[id]
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}
	if err == nil {
		err = sc.Err()
	}
	if err == nil {
		err = ErrClosed
	} else {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	// Closing here as well unblocks writers when QEMU went away first.
	c.closeOnce.Do(func() { _ = c.conn.Close() })
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
