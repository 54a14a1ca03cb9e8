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

// Command busybox writes an OCI image archive of Debian's static busybox,
// for trying Arcturus without a registry:
//
//	go run ./test/images/busybox -o busybox.oci.tar
//	arcturus image import busybox.oci.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/arcturus-cloud/arcturus/pkg/oci"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

func main() {
	out := flag.String("o", "busybox.oci.tar", "Archive to write.")
	name := flag.String("name", "local/busybox:1", "Image name.")
	busybox := flag.String("busybox", framework.BusyboxPath, "Static busybox binary to put in the image.")
	flag.Parse()
	if err := write(*out, *name, *busybox); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%s)\n", *out, *name)
}

func write(out, name, busybox string) error {
	img, err := framework.BusyboxImage(name, busybox)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := oci.Write(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
