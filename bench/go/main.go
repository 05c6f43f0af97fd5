// SPDX-License-Identifier: MIT
// The bench workloads with go-libvirt (Debian's golang-github-digitalocean-go-libvirt-dev).
//
//	gobench SOCKET URI w1|w2|w4|w6 N [THREADS]
//
// Prints one line of key=value results, as the C programs do.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

func open(sock, uri string) *libvirt.Libvirt {
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(sock)))
	if err := l.ConnectToURI(libvirt.ConnectURI(uri)); err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	return l
}

func calls(l *libvirt.Libvirt, n int) {
	for i := 0; i < n; i++ {
		d, err := l.DomainLookupByName("test")
		if err != nil {
			fmt.Fprintln(os.Stderr, "lookup:", err)
			os.Exit(1)
		}
		if _, _, _, _, _, err := l.DomainGetInfo(d); err != nil {
			fmt.Fprintln(os.Stderr, "info:", err)
			os.Exit(1)
		}
	}
}

// Peak RSS (VmHWM): ru_maxrss would carry over the peak of the process that exec'd us.
func hwm() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return -1
}

// CPU seconds of the daemon whose pid is in $BENCH_DAEMON_PID, or -1.
func daemonCPU() float64 {
	pid := os.Getenv("BENCH_DAEMON_PID")
	if pid == "" {
		return -1
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: gobench SOCKET URI w1|w2|w4|w6 N [THREADS]")
		os.Exit(2)
	}
	sock, uri, w := os.Args[1], os.Args[2], os.Args[3]
	n, _ := strconv.Atoi(os.Args[4])
	threads := 8
	if len(os.Args) > 5 {
		threads, _ = strconv.Atoi(os.Args[5])
	}
	var ops int
	var start time.Time
	var ru0 syscall.Rusage
	var d0 float64
	switch w {
	case "w1", "w2":
		l := open(sock, uri)
		d0 = daemonCPU()
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start = time.Now()
		if w == "w1" {
			calls(l, n)
		} else {
			var wg sync.WaitGroup
			for t := 0; t < threads; t++ {
				wg.Add(1)
				go func() { defer wg.Done(); calls(l, n/threads) }()
			}
			wg.Wait()
			n = n / threads * threads
		}
		ops = 2 * n
		l.Disconnect()
	case "w4":
		l := open(sock, uri)
		d0 = daemonCPU()
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start = time.Now()
		doms, _, err := l.ConnectListAllDomains(1, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "list:", err)
			os.Exit(1)
		}
		for _, d := range doms {
			if _, _, _, _, _, err := l.DomainGetInfo(d); err != nil {
				fmt.Fprintln(os.Stderr, "info:", err)
				os.Exit(1)
			}
			if _, err := l.DomainGetXMLDesc(d, 0); err != nil {
				fmt.Fprintln(os.Stderr, "xml:", err)
				os.Exit(1)
			}
		}
		ops = len(doms)
		l.Disconnect()
	case "w6":
		d0 = daemonCPU()
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start = time.Now()
		for i := 0; i < n; i++ {
			l := open(sock, uri)
			if _, err := l.ConnectGetVersion(); err != nil {
				fmt.Fprintln(os.Stderr, "version:", err)
				os.Exit(1)
			}
			l.Disconnect()
		}
		ops = n
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", w)
		os.Exit(2)
	}
	wall := time.Since(start).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec-ru0.Utime.Sec-ru0.Stime.Sec) +
		float64(ru.Utime.Usec+ru.Stime.Usec-ru0.Utime.Usec-ru0.Stime.Usec)/1e6
	d := daemonCPU()
	if d < 0 || d0 < 0 {
		d = -1
	} else {
		d -= d0
	}
	fmt.Printf("wall=%.6f ops=%d cpu=%.6f maxrss_kb=%d daemon_cpu=%.6f\n", wall, ops, cpu, hwm(), d)
}
