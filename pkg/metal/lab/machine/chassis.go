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

package machine

// ipmi_sim carries out chassis commands (power, reset, soft shutdown, boot
// device) by running its chassis_control program, which exits non-zero on
// failure:
//
//	<program> 0x20 get power boot       prints "power:1" and "boot:pxe" lines
//	<program> 0x20 set power 0 boot pxe acts, prints nothing
//
// The program is a script in the machine's directory that runs this
// process's binary with chassisControlEnv set; init below then turns the
// process into a client of the bmcSocket, where the Machine carries the
// request out.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

// chassisControlEnv holds the socket path of the machine a chassis control
// program talks to.
const chassisControlEnv = "ARCTURUS_LAB_CHASSIS_CONTROL"

// chassisControlTimeout bounds a chassis control program's wait for the
// machine, a little longer than the machine takes at most.
const chassisControlTimeout = bmcOperationTimeout + 5*time.Second

// A process started as a chassis control program does only that: this
// runs before main, and before the flags of a test binary are parsed.
func init() {
	if sock := os.Getenv(chassisControlEnv); sock != "" {
		os.Exit(chassisControlMain(sock, os.Args[1:], os.Stdout))
	}
}

type chassisRequest struct {
	Args []string `json:"args"`
}

type chassisResponse struct {
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// chassisControlMain sends args to the machine at sock and prints its
// answer for ipmi_sim. It returns the exit code.
func chassisControlMain(sock string, args []string, out io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), chassisControlTimeout)
	defer cancel()
	resp, err := chassisControlCall(ctx, sock, args)
	if err != nil {
		fmt.Fprintf(out, "lab machine at %s: %v\n", sock, err)
		return 1
	}
	fmt.Fprint(out, resp.Output)
	if resp.Error != "" {
		fmt.Fprintln(out, resp.Error)
		return 1
	}
	return 0
}

func chassisControlCall(ctx context.Context, sock string, args []string) (*chassisResponse, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(chassisRequest{Args: args}); err != nil {
		return nil, fmt.Errorf("sending the request: %w", err)
	}
	var resp chassisResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return &resp, nil
}

// serveChassisControl answers one request of a chassis control program.
func (m *Machine) serveChassisControl(ctx context.Context, conn net.Conn) {
	ctx, cancel := context.WithTimeout(ctx, bmcOperationTimeout)
	defer cancel()
	log := m.logger(ctx)
	_ = conn.SetDeadline(time.Now().Add(bmcOperationTimeout))
	var req chassisRequest
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		log.Error(err, "Reading a chassis control request")
		return
	}
	out, err := m.chassisControl(ctx, req.Args)
	resp := chassisResponse{Output: out}
	if err != nil {
		resp.Error = err.Error()
	}
	log.V(2).Info("IPMI chassis control", "args", req.Args, "output", out, "err", err)
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		log.Error(err, "Answering a chassis control request")
	}
}

// chassisControl carries out ipmi_sim's "<device> get|set <params>".
func (m *Machine) chassisControl(ctx context.Context, args []string) (string, error) {
	if len(args) < 2 {
		return "", fmt.Errorf("want <device> get|set <parameters>, got %q", args)
	}
	op, params := args[1], args[2:]
	switch op {
	case "get":
		var b strings.Builder
		for _, p := range params {
			switch p {
			case "power":
				v := 0
				if m.PowerState() == power.StateOn {
					v = 1
				}
				fmt.Fprintf(&b, "power:%d\n", v)
			case "boot":
				v := "none"
				if m.BootOverride().PXE {
					v = "pxe"
				}
				fmt.Fprintf(&b, "boot:%s\n", v)
			default:
				return "", fmt.Errorf("cannot get %q", p)
			}
		}
		return b.String(), nil
	case "set":
		if len(params)%2 != 0 {
			return "", fmt.Errorf("want parameter and value pairs, got %q", params)
		}
		for i := 0; i < len(params); i += 2 {
			if err := m.chassisSet(ctx, params[i], params[i+1]); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("unsupported operation %q", op)
}

func (m *Machine) chassisSet(ctx context.Context, param, value string) error {
	switch {
	case param == "power" && value == "1":
		return m.PowerOn(ctx)
	case param == "power" && value == "0":
		return m.PowerOff(ctx)
	case param == "reset" && value == "1":
		return m.Reset(ctx)
	case param == "shutdown" && value == "1":
		return m.Shutdown(ctx)
	case param == "boot" && value == "pxe":
		// ipmi_sim does not pass the persistent flag on: every
		// override is for the next boot.
		m.SetBootOverride(BootOverride{PXE: true})
		return nil
	case param == "boot" && value == "none":
		m.SetBootOverride(BootOverride{})
		return nil
	case param == "boot":
		return fmt.Errorf("boot device %q is not supported: machines boot from the network, then the disk", value)
	}
	return errors.New("unsupported: set " + param + " " + value)
}

// chassisControlScript is the chassis_control program for ipmi_sim.
func chassisControlScript(name, exe, sock string) string {
	return fmt.Sprintf(`#!/bin/sh
# ipmi_sim's chassis_control program for lab machine %s, written by arcturus
# at every start: it hands the request to the process that runs the machine.
%s=%s exec %s "$@"
`, name, chassisControlEnv, shellQuote(sock), shellQuote(exe))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
