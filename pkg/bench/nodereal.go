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

package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/arcturus-cloud/arcturus/pkg/agent/cni"
	"github.com/arcturus-cloud/arcturus/pkg/agent/containerd"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/cri"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/internal/mountinfo"
	"github.com/arcturus-cloud/arcturus/pkg/oci"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// benchImage is the busybox image the bench imports into its node.
	benchImage = "local/busybox:1"
	// podNamespace holds the bench's pods.
	podNamespace = metav1.NamespaceDefault
	// deleteGrace is the grace period of the bench's deletions: sleep, as
	// a container's first process, ignores SIGTERM and is killed after it.
	deleteGrace = 1
	// nodeReadyTimeout bounds the start of the real node.
	nodeReadyTimeout = 2 * time.Minute
	// cleanupTimeout bounds the removal of everything the bench made.
	cleanupTimeout = 5 * time.Minute
	// createWorkers create and delete pods in bulk.
	createWorkers = 10
	// vmKernelArgs is the command line of the bench's VMs (the runtime
	// adds console=ttyS0).
	vmKernelArgs = "earlyprintk=serial,ttyS0,115200 loglevel=6"
)

// realNode is the bench's real node: an agent with its own containerd,
// and the tenant whose pods it runs.
type realNode struct {
	r       *nodeRunner
	name    string
	dir     string
	dataDir string
	server  *childServer
	admin   *rest.Config
	agent   *childAgent
	procs   nodeProcs
	// bridgeExisted: the pod bridge was there before the bench; it stays.
	// masqBefore are the masquerade chains of the pod network that were
	// there before the bench (nil when iptables is not at hand); they stay.
	bridgeExisted bool
	masqBefore    map[string]bool
	accelerator   string
	vmRuntime     bool
	readyIn       time.Duration

	tenant tenancy.Name
	core   corev1client.CoreV1Interface
	arc    *client.Core
	watch  *podWatch
	// syncs is the agent's pod sync duration histogram at the start of a
	// measurement.
	syncs []bucket
}

// realNode runs the container and VM measurements on one real node, with
// a server of its own.
func (r *nodeRunner) realNode(ctx context.Context) (err error) {
	c := r.cfg
	img, err := oci.BusyboxImage(benchImage, c.Busybox)
	if err != nil {
		return err
	}
	var archive bytes.Buffer
	if err := oci.Write(&archive, img); err != nil {
		return fmt.Errorf("writing the busybox image: %w", err)
	}

	r.log.printf("real node: starting arcturus server")
	server, admin, err := startChild(ctx, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, server.stop(r.log.printf)) }()
	ctx, cancel := server.bound(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "arcturus-bench-node-")
	if err != nil {
		return fmt.Errorf("creating the node's directory: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("removing %s: %w", dir, rmErr))
		}
	}()
	n := &realNode{
		r: r, name: "bench-" + r.run, dir: dir, dataDir: filepath.Join(dir, "data"),
		server: server, admin: admin, tenant: tenancy.Name("bench-node-" + r.run),
	}
	defer func() { err = errors.Join(err, n.shutdown()) }()
	if err := n.start(ctx, archive.Bytes()); err != nil {
		return err
	}

	phases := []struct {
		name string
		run  bool
		do   func(context.Context) error
	}{
		{"container pod startup", c.Pods > 0, n.startupLatency},
		{fmt.Sprintf("%d pods on one node", c.DensityPods), c.DensityPods > 0, n.density},
		{"VM pod startup", c.VMs > 0, n.vmStartup},
	}
	for _, p := range phases {
		if !p.run {
			continue
		}
		before, serverBefore, benchBefore := n.procs.snapshot(), procCPU(server.pid()), benchCPU()
		if err := p.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		after := n.procs.snapshot()
		wall := after.at.Sub(before.at)
		containerdCPU := after.cpuSince(before, groupContainerd) + after.cpuSince(before, groupShims) + after.cpuSince(before, groupPods)
		// QEMU runs as the agent's child: those that ended were waited for.
		qemuCPU := after.cpuSince(before, groupQEMU) + after.reapedSince(before, groupAgent)
		r.cpu.add(p.name, seconds(wall), seconds(procCPU(server.pid())-serverBefore), seconds(after.cpuSince(before, groupAgent)),
			seconds(containerdCPU), seconds(qemuCPU), seconds(benchCPU()-benchBefore))
	}
	return r.collectServerErrors(ctx, admin, "real node")
}

// start mints the node's identity, starts its agent, waits until the node
// is Ready, imports the busybox image and creates the bench's tenant.
func (n *realNode) start(ctx context.Context, archive []byte) error {
	c, r := n.r.cfg, n.r
	ca, err := pki.LoadOrCreateCA(apiserver.TLSDir(filepath.Join(n.server.dir, "data")), "arcturus-ca")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(n.dir, "node.kubeconfig")
	data, err := ca.Kubeconfig(n.admin.Host, string(tenancy.System), pki.ClientIdentity{
		User: "system:node:" + n.name, Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
	})
	if err == nil {
		err = os.WriteFile(kubeconfig, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("node kubeconfig: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	if _, err := netlink.LinkByName(c.PodBridge); err == nil {
		n.bridgeExisted = true
	}
	if rules, err := masqueradeRules(c.PodCIDR); err == nil {
		n.masqBefore = map[string]bool{}
		for _, rule := range rules {
			n.masqBefore[rule.chain] = true
		}
	}
	containerdDir := filepath.Join(n.dataDir, "agent", "containerd")
	n.procs = nodeProcs{agentDir: filepath.Join(n.dataDir, "agent"), runDir: containerd.RunDir(containerdDir)}

	r.log.printf("real node: starting arcturus agent %s (pod network %s on %s)", n.name, c.PodCIDR, c.PodBridge)
	start := time.Now()
	n.agent, err = startAgent(n.logPath("agent-node.log"), "127.0.0.1:"+strconv.Itoa(ports[1]), c.AgentVerbosity,
		"--kubeconfig", kubeconfig, "--node-name", n.name, "--data-dir", n.dataDir,
		"--port", strconv.Itoa(ports[0]), "--pod-cidr", c.PodCIDR, "--pod-bridge", c.PodBridge,
		"--max-pods", strconv.Itoa(max(110, c.DensityPods)))
	if err != nil {
		return err
	}
	n.procs.agent = n.agent.pid()
	if err := n.agent.waitRegistered(ctx, nodeReadyTimeout, nil); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(n.admin)
	if err != nil {
		return err
	}
	var node *corev1.Node
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, nodeReadyTimeout, true, func(ctx context.Context) (bool, error) {
		if node, err = cs.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{}); err != nil {
			return false, nil
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for node %s to be Ready: %w", n.name, err)
	}
	n.readyIn = time.Since(start)
	n.vmRuntime = node.Labels[v1.LabelVMRuntime] == "true"
	n.accelerator = node.Labels[v1.LabelVMAccelerator]
	r.log.printf("real node: Ready %s after the agent started (VMs: %v, accelerator %q)", seconds(n.readyIn), n.vmRuntime, n.accelerator)

	if _, err := containerd.Import(ctx, containerd.Socket(containerdDir), bytes.NewReader(archive), ""); err != nil {
		return fmt.Errorf("importing busybox: %w", err)
	}
	tc, err := apiserver.TenancyClient(n.admin)
	if err != nil {
		return err
	}
	if err := createTenant(ctx, tc, n.tenant); err != nil {
		return err
	}
	data, err = ca.Kubeconfig(n.admin.Host, string(n.tenant), pki.ClientIdentity{
		User: "bench", Groups: []string{tenancy.AdminsGroup}, Tenant: string(n.tenant),
	})
	if err != nil {
		return err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return fmt.Errorf("tenant kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst, cfg.UserAgent = 1000, 2000, "arcturus-bench/node"
	if n.core, err = corev1client.NewForConfig(cfg); err != nil {
		return err
	}
	if n.arc, err = client.NewCore(cfg, nil); err != nil {
		return err
	}
	// The tenant controller creates the namespace and the admins' binding.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := n.core.Namespaces().Get(ctx, podNamespace, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the %s namespace of tenant %s: %w", podNamespace, n.tenant, err)
	}
	n.watch, err = startPodWatch(ctx, n.arc, n.tenant, podNamespace)
	return err
}

// logPath is where an agent logs: in --log-dir, or in the node's directory.
func (n *realNode) logPath(name string) string {
	if n.r.cfg.LogDir != "" {
		return filepath.Join(n.r.cfg.LogDir, name)
	}
	return filepath.Join(n.dir, name)
}

func (n *realNode) containerPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeName:   n.name,
			Containers: []corev1.Container{{Name: "c", Image: benchImage, Command: []string{"sleep", "3600"}}},
		},
	}
}

func (n *realNode) createPod(ctx context.Context, name string) error {
	_, err := n.core.Pods(podNamespace).Create(ctx, n.containerPod(name), metav1.CreateOptions{})
	return err
}

func (n *realNode) deletePod(ctx context.Context, name string) error {
	err := n.core.Pods(podNamespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](deleteGrace)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// markSyncs reads the agent's pod sync histogram; syncSummary describes
// the syncs since.
func (n *realNode) markSyncs(ctx context.Context) {
	if m, err := n.agent.metrics(ctx); err == nil {
		n.syncs = histogram(m, "arcturus_agent_pod_sync_duration_seconds", nil)
	}
}

func (n *realNode) syncSummary(ctx context.Context) string {
	m, err := n.agent.metrics(ctx)
	if err != nil {
		return "unknown"
	}
	h := histogramDelta(n.syncs, histogram(m, "arcturus_agent_pod_sync_duration_seconds", nil))
	return fmt.Sprintf("%.0f syncs, p50 %s, p99 %s", histogramCount(h),
		ms(secondsDuration(histogramQuantile(0.5, h))), ms(secondsDuration(histogramQuantile(0.99, h))))
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// deleteAll deletes the tracked pods named names at once and waits until
// they are gone. It returns the time until the last was gone and each
// pod's time from its delete call.
func (n *realNode) deleteAll(ctx context.Context, names []string, tracks []*podTrack) (time.Duration, []time.Duration, error) {
	start := time.Now()
	sent := make([]time.Time, len(names))
	res := closedLoop(ctx, createWorkers, len(names), func(ctx context.Context, i int) error {
		sent[i] = time.Now()
		return n.deletePod(ctx, names[i])
	}, nil)
	if res.Failed() > 0 {
		return 0, nil, fmt.Errorf("%d deletes failed: %s", res.Failed(), res.Failures[0].Example)
	}
	var last time.Time
	var each []time.Duration
	var errs []error
	for i, t := range tracks {
		at, err := n.watch.waitGone(ctx, t, n.r.cfg.PodTimeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("pod %s: %w", names[i], err))
			continue
		}
		each = append(each, at.Sub(sent[i]))
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(start), each, errors.Join(errs...)
}

// startupLatency starts pods one after another (PodConcurrency at a time),
// each timed from its create call until the watch sees it Running.
func (n *realNode) startupLatency(ctx context.Context) error {
	c, r := n.r.cfg, n.r
	r.log.printf("startup: %d container pods, %d at a time", c.Pods, c.PodConcurrency)
	names := make([]string, c.Pods)
	tracks := make([]*podTrack, c.Pods)
	created := make([]bool, c.Pods)
	latencies := &recorder{}
	creates := &recorder{}
	n.markSyncs(ctx)
	res := closedLoop(ctx, c.PodConcurrency, c.Pods, func(ctx context.Context, i int) error {
		names[i] = fmt.Sprintf("start-%03d", i)
		tracks[i] = n.watch.track(names[i])
		start := time.Now()
		err := n.createPod(ctx, names[i])
		creates.record(start, err)
		if err != nil {
			return err
		}
		created[i] = true
		at, err := n.watch.waitRunning(ctx, tracks[i], c.PodTimeout)
		if err != nil {
			return fmt.Errorf("pod %s: %w", names[i], err)
		}
		latencies.observe(at.Sub(start))
		return nil
	}, func(done int) {
		if done%10 == 0 {
			r.log.printf("startup: %d of %d pods Running", done, c.Pods)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	syncs := n.syncSummary(ctx)
	sorted := slices.Clone(latencies.latencies)
	slices.Sort(sorted)
	p99 := percentile(sorted, 0.99)
	for _, f := range res.Failures {
		r.problem("container pod startup: %d failed (%s), e.g. %s", f.Count, f.Class, f.Example)
	}
	t := newTable("Container pod startup",
		fmt.Sprintf("Pods of one busybox container (`sleep 3600`, image imported into the node's containerd) created %d at a time with spec.nodeName set, each timed from its create call until a watch started before the first create saw it Running. Create is the API call alone. Agent syncs are arcturus_agent_pod_sync_duration_seconds over the run. Target: p99 < %v (Kubernetes' SLO: %v).",
			c.PodConcurrency, podStartupTarget, podStartupSLO),
		"pods", "p50", "p90", "p99", "max", "create p50", "failed", "agent syncs", "p99 / target")
	t.add(strconv.Itoa(len(sorted)), ms(percentile(sorted, 0.5)), ms(percentile(sorted, 0.9)), ms(p99), ms(percentile(sorted, 1)),
		ms(creates.summary().P50), strconv.Itoa(res.Failed()), syncs, ratioVerdict(p99, podStartupTarget))
	t.write(r.out)
	if len(sorted) > 0 {
		r.target(fmt.Sprintf("container pod startup p99 < %v (%d pods, %d at a time)", podStartupTarget, c.Pods, c.PodConcurrency),
			fmt.Sprintf("p99 %s, p50 %s", ms(p99), ms(percentile(sorted, 0.5))), float64(p99)/float64(podStartupTarget))
	}

	r.log.printf("startup: deleting the %d pods", len(names))
	var made []string
	var madeTracks []*podTrack
	for i, name := range names {
		if created[i] {
			made, madeTracks = append(made, name), append(madeTracks, tracks[i])
		}
	}
	all, each, err := n.deleteAll(ctx, made, madeTracks)
	if err != nil {
		return err
	}
	slices.Sort(each)
	r.log.printf("startup: all %d pods gone %s after the first delete (per pod p50 %s, max %s)",
		len(made), seconds(all), ms(percentile(each, 0.5)), ms(percentile(each, 1)))
	return nil
}

// ratioVerdict formats a measured duration over its target.
func ratioVerdict(got, target time.Duration) string {
	v := "met"
	if got >= target {
		v = "missed"
	}
	return fmt.Sprintf("%.2f× (%s)", float64(got)/float64(target), v)
}

// density creates DensityPods pods at once, waits until all run, watches
// the node's processes with them running and deletes them all at once.
func (n *realNode) density(ctx context.Context) error {
	c, r := n.r.cfg, n.r
	count := c.DensityPods
	names := make([]string, count)
	tracks := make([]*podTrack, count)
	sent := make([]time.Time, count)
	for i := range count {
		names[i] = fmt.Sprintf("dense-%03d", i)
		tracks[i] = n.watch.track(names[i])
	}
	before := n.procs.snapshot()
	sampler := startSampler(n.procs)
	n.markSyncs(ctx)
	r.log.printf("density: creating %d pods with %d clients", count, c.DensityClients)
	start := time.Now()
	res := closedLoop(ctx, c.DensityClients, count, func(ctx context.Context, i int) error {
		sent[i] = time.Now()
		return n.createPod(ctx, names[i])
	}, nil)
	createdIn := time.Since(start)
	if res.Failed() > 0 {
		sampler.finish()
		return fmt.Errorf("%d creates failed: %s", res.Failed(), res.Failures[0].Example)
	}
	var latencies []time.Duration
	var last time.Time
	deadline := c.PodTimeout + time.Duration(count)*time.Second
	for i, t := range tracks {
		at, err := n.watch.waitRunning(ctx, t, time.Until(start.Add(deadline)))
		if err != nil {
			sampler.finish()
			return fmt.Errorf("pod %s: %w", names[i], err)
		}
		latencies = append(latencies, at.Sub(sent[i]))
		if at.After(last) {
			last = at
		}
		if (i+1)%25 == 0 {
			r.log.printf("density: %d of %d pods Running", i+1, count)
		}
	}
	allRunning := last.Sub(start)
	running := n.procs.snapshot()
	syncs := n.syncSummary(ctx)
	r.log.printf("density: all %d pods Running %s after the first create; watching the node for %v", count, seconds(allRunning), c.DensityWindow)
	n.markSyncs(ctx)
	sleepCtx(ctx, c.DensityWindow)
	steady := n.procs.snapshot()
	steadySyncs := n.syncSummary(ctx)
	steadyPSS := map[string]float64{}
	for _, g := range nodeGroups {
		steadyPSS[g] = steady.pss(g)
	}
	peaks := sampler.finish()

	r.log.printf("density: deleting the %d pods at once", count)
	all, each, err := n.deleteAll(ctx, names, tracks)
	if err != nil {
		return err
	}
	deleted := n.procs.snapshot()
	slices.Sort(latencies)
	slices.Sort(each)

	cpu := func(a, b procSnapshot) string {
		wall := b.at.Sub(a.at)
		ctrd := b.cpuSince(a, groupContainerd)
		shims := b.cpuSince(a, groupShims) + b.cpuSince(a, groupPods)
		return fmt.Sprintf("agent %s (%s), containerd %s (%s), shims and pods %s (%s)",
			seconds(b.cpuSince(a, groupAgent)), cores(b.cpuSince(a, groupAgent), wall),
			seconds(ctrd), cores(ctrd, wall), seconds(shims), cores(shims, wall))
	}
	t := newTable(fmt.Sprintf("%d pods on one node", count),
		fmt.Sprintf("%d busybox pods (`sleep 3600`) created at once by %d clients, then deleted at once (grace period %ds). CPU is from /proc/<pid>/stat: the agent, its containerd, and the shims with the pods' processes (those alive at the end of each interval).",
			count, c.DensityClients, deleteGrace),
		"", "")
	t.add("Created", fmt.Sprintf("%d pods in %s", count, seconds(createdIn)))
	t.add("All Running", fmt.Sprintf("%s after the first create; per pod create → Running p50 %s, p99 %s, max %s",
		seconds(allRunning), ms(percentile(latencies, 0.5)), ms(percentile(latencies, 0.99)), ms(percentile(latencies, 1))))
	t.add("CPU until all Running", cpu(before, running))
	t.add("Agent pod syncs until all Running", syncs)
	t.add(fmt.Sprintf("CPU with %d pods running, over %v", count, c.DensityWindow), cpu(running, steady))
	t.add(fmt.Sprintf("Agent pod syncs over those %v", c.DensityWindow), steadySyncs)
	t.add("All deleted", fmt.Sprintf("%s after the first delete; per pod delete → gone p50 %s, max %s",
		seconds(all), ms(percentile(each, 0.5)), ms(percentile(each, 1))))
	t.add("CPU while deleting", cpu(steady, deleted))
	t.write(r.out)

	mem := newTable(fmt.Sprintf("Node memory with %d pods", count),
		"RSS from /proc/<pid>/stat, summed over a group's processes (shared pages counted in each); peak is the largest sum of one-second samples from before the first create until the deletions; PSS (smaps_rollup) shares pages among the processes that map them.",
		"processes", "before", "peak", fmt.Sprintf("RSS with %d running", count), fmt.Sprintf("PSS with %d running", count), "after deletion")
	for _, g := range []string{groupAgent, groupContainerd, groupShims, groupPods} {
		name := g
		if g == groupShims || g == groupPods {
			name = fmt.Sprintf("%s (%d)", g, steady.count(g))
		}
		mem.add(name, mib(before.rss(g)), mib(peaks[g]), mib(steady.rss(g)), mib(steadyPSS[g]), mib(deleted.rss(g)))
	}
	mem.write(r.out)
	return nil
}

// vmStartup starts VM pods one after another, each deleted before the
// next: created → Running (QEMU runs the guest), then, on the serial
// console, the kernel's first line and the guest's /init.
func (n *realNode) vmStartup(ctx context.Context) error {
	c, r := n.r.cfg, n.r
	if !n.vmRuntime {
		r.log.printf("vm: skipped, the node runs no VMs (see the agent log)")
		t := newTable("VM pod startup", "Skipped: the node runs no virtual machines (QEMU missing or unusable).", "")
		t.write(r.out)
		return nil
	}
	kernel := c.VMKernel
	if kernel == "" {
		var err error
		if kernel, err = newestKernel(); err != nil {
			return err
		}
	}
	initrd := filepath.Join(n.dir, "initramfs.cpio")
	if err := writeInitramfs(initrd, c.Busybox); err != nil {
		return err
	}
	type result struct {
		running, kernel, init, deleted time.Duration
		uptime                         string
		qemuRSS                        float64
		qemuCPU                        time.Duration
	}
	var results []result
	var startups []time.Duration
	for i := range c.VMs {
		name := fmt.Sprintf("vm-%02d", i)
		tr := n.watch.track(name)
		pod := n.vmPod(name, kernel, initrd)
		start := time.Now()
		if err := n.arc.Request("POST", n.tenant).Namespace(podNamespace).Resource("pods").Body(pod).Do(ctx).Error(); err != nil {
			return fmt.Errorf("creating VM pod %s: %w", name, err)
		}
		at, err := n.watch.waitRunning(ctx, tr, c.PodTimeout)
		if err != nil {
			r.problem("VM pod %s: %v", name, err)
			_, _, delErr := n.deleteAll(ctx, []string{name}, []*podTrack{tr})
			return errors.Join(err, delErr)
		}
		res := result{running: at.Sub(start), uptime: "—"}
		startups = append(startups, res.running)
		if c.ConsoleTimeout > 0 {
			k, init, uptime, err := n.followConsole(ctx, name, start, c.ConsoleTimeout)
			res.kernel, res.init = k, init
			if uptime != "" {
				res.uptime = uptime + " s"
			}
			if err != nil {
				r.log.printf("vm: %s: console: %v", name, err)
			}
		}
		booted := n.procs.snapshot()
		res.qemuRSS = booted.rss(groupQEMU)
		for _, p := range booted.groups[groupQEMU] {
			res.qemuCPU += p.cpu
		}
		all, _, err := n.deleteAll(ctx, []string{name}, []*podTrack{tr})
		if err != nil {
			return err
		}
		res.deleted = all
		results = append(results, res)
		r.log.printf("vm: %s Running after %s, kernel's first line %s, /init %s, gone %s after its delete",
			name, ms(res.running), optionalMS(res.kernel), optionalMS(res.init), ms(res.deleted))
	}
	t := newTable("VM pod startup",
		fmt.Sprintf("VM pods (%s vCPU, %s, accelerator %s) booting %s (kernel arguments `%s`) with a %s initramfs whose /init prints the guest's uptime, started one after another, each deleted (grace period %ds) before the next. Running: the watch sees phase Running and the VM Running (QEMU runs the guest). Kernel's first line (its early console) and /init: when the line came through `pods/log?follow=true` (the API server proxies to the agent, which polls the console file every 200 ms), from the create call. QEMU CPU and RSS: just after /init ran. Target: median created → Running < %v.",
			c.VMCPU.String(), c.VMMemory.String(), n.accelerator, kernel, vmKernelArgs, mib(float64(fileSize(initrd))), deleteGrace, vmStartupTarget),
		"VM", "created → Running", "→ kernel's first line", "→ /init", "guest uptime at /init", "QEMU CPU", "QEMU RSS", "delete → gone")
	for i, res := range results {
		t.add(fmt.Sprintf("vm-%02d", i), ms(res.running), optionalMS(res.kernel), optionalMS(res.init), res.uptime, seconds(res.qemuCPU), mib(res.qemuRSS), ms(res.deleted))
	}
	slices.Sort(startups)
	p50 := percentile(startups, 0.5)
	t.add("**p50**", "**"+ms(p50)+"**", optionalMS(percentile(pick(results, func(x result) time.Duration { return x.kernel }), 0.5)),
		optionalMS(percentile(pick(results, func(x result) time.Duration { return x.init }), 0.5)), "", "", "", "")
	t.add("**max**", "**"+ms(percentile(startups, 1))+"**", optionalMS(percentile(pick(results, func(x result) time.Duration { return x.kernel }), 1)),
		optionalMS(percentile(pick(results, func(x result) time.Duration { return x.init }), 1)), "", "", "", "")
	t.write(r.out)
	if len(startups) > 0 {
		r.target(fmt.Sprintf("VM pod created → Running p50 < %v (%s, %d VMs)", vmStartupTarget, strings.ToUpper(n.accelerator), len(startups)),
			fmt.Sprintf("p50 %s, max %s", ms(p50), ms(percentile(startups, 1))), float64(p50)/float64(vmStartupTarget))
	}
	return nil
}

// pick returns the non-zero durations f takes from results, sorted.
func pick[T any](results []T, f func(T) time.Duration) []time.Duration {
	var out []time.Duration
	for _, x := range results {
		if d := f(x); d > 0 {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

func optionalMS(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return ms(d)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (n *realNode) vmPod(name, kernel, initrd string) *v1.Pod {
	c := n.r.cfg
	return &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.PodSpec{
			PodSpec: corev1.PodSpec{NodeName: n.name},
			VirtualMachine: &v1.VirtualMachineSpec{
				// The early console shows the kernel's first line as the
				// kernel starts, not when the serial console registers;
				// only notices and worse, of which that line is one.
				Kernel: &v1.KernelBoot{Kernel: kernel, Initrd: initrd, Args: vmKernelArgs},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: c.VMCPU, corev1.ResourceMemory: c.VMMemory,
				}},
			},
		},
	}
}

// followConsole follows a VM's serial console until the guest's /init has
// printed its line, and returns when the kernel's first line and that line
// were seen, from start, and the guest's uptime the line holds.
func (n *realNode) followConsole(ctx context.Context, name string, start time.Time, timeout time.Duration) (kernel, init time.Duration, uptime string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for ctx.Err() == nil {
		stream, err := n.core.Pods(podNamespace).GetLogs(name, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
		if err != nil {
			// The console may not exist for a moment after QEMU started.
			sleepCtx(ctx, 200*time.Millisecond)
			continue
		}
		scanner := bufio.NewScanner(stream)
		for scanner.Scan() {
			line := scanner.Text()
			if kernel == 0 && strings.Contains(line, "Linux version") {
				kernel = time.Since(start)
			}
			if i := strings.Index(line, initMarker); i >= 0 {
				stream.Close()
				return kernel, time.Since(start), strings.TrimSpace(line[i+len(initMarker):]), nil
			}
		}
		stream.Close()
		if err := scanner.Err(); err != nil && ctx.Err() == nil {
			return kernel, 0, "", err
		}
	}
	return kernel, 0, "", fmt.Errorf("no %q line within %v", strings.TrimSpace(initMarker), timeout)
}

// shutdown deletes the bench's pods through the API and waits until they
// are gone, stops the agent, and removes what is left on the node: pods
// whose processes survived (through containerd and the runtimes, as the
// agent would), mounts, containerd's run directory and the pod bridge.
func (n *realNode) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	r := n.r
	var errs []error
	if n.agent != nil && n.core != nil {
		if err := n.deleteEverything(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if n.watch != nil {
		n.watch.stop()
	}
	if n.agent != nil {
		if err := n.agent.stop(); err != nil {
			errs = append(errs, err)
		}
		total, lines, err := logErrors(n.agent.logPath, maxLoggedErrors)
		if err == nil {
			r.log.printf("real node: agent log: %d error lines", total)
			for _, l := range lines {
				r.log.printf("  %s", l)
			}
		}
		n.procs.agent = 0
	}
	if n.procs.agentDir != "" {
		if left := n.procs.snapshot(); left.count(groupShims)+left.count(groupQEMU)+left.count(groupPods) > 0 {
			r.problem("real node: %d shims, %d QEMU and %d pod processes outlived the agent; removing them through containerd",
				left.count(groupShims), left.count(groupQEMU), left.count(groupPods))
			if err := removeNodePods(ctx, n.dataDir); err != nil {
				errs = append(errs, err)
			}
		}
		// Last resort: whatever of the node still runs.
		left := n.procs.snapshot()
		for _, g := range []string{groupPods, groupShims, groupQEMU, groupContainerd} {
			for _, p := range left.groups[g] {
				errs = append(errs, fmt.Errorf("%s process %d (%s) left; killing it", g, p.pid, p.comm))
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
		errs = append(errs, unmountUnder(n.dataDir, n.procs.runDir))
		if err := os.RemoveAll(n.procs.runDir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", n.procs.runDir, err))
		}
	}
	if n.masqBefore != nil {
		if err := n.removeLeakedMasquerade(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.procs.agentDir != "" && !n.bridgeExisted {
		if link, err := netlink.LinkByName(r.cfg.PodBridge); err == nil {
			if err := netlink.LinkDel(link); err != nil {
				errs = append(errs, fmt.Errorf("removing the pod bridge %s: %w", r.cfg.PodBridge, err))
			}
		}
	}
	return errors.Join(errs...)
}

// deleteEverything deletes every pod of the bench's namespace and waits
// until none is left.
func (n *realNode) deleteEverything(ctx context.Context) error {
	// A server that is gone (an interrupted bench stops it too) deletes
	// nothing; the node is then cleaned without it.
	ctx, cancel := n.server.bound(ctx)
	defer cancel()
	list, err := n.core.Pods(podNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing the bench's pods: %w", err)
	}
	if len(list.Items) == 0 {
		return nil
	}
	n.r.log.printf("real node: deleting %d pods left", len(list.Items))
	var errs []error
	for _, p := range list.Items {
		if err := n.deletePod(ctx, p.Name); err != nil {
			errs = append(errs, err)
		}
	}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, n.r.cfg.PodTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := n.core.Pods(podNamespace).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == 0, nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("waiting for the bench's pods to go: %w", err))
	}
	return errors.Join(errs...)
}

// removeNodePods removes every pod the runtimes of the node in dataDir
// still hold, with a containerd started for the purpose.
func removeNodePods(ctx context.Context, dataDir string) error {
	agentDir := filepath.Join(dataDir, "agent")
	d, err := containerd.Start(ctx, containerd.Config{
		Dir: filepath.Join(agentDir, "containerd"), CNIBinDirs: cni.DefaultBinDirs, CNIConfDir: filepath.Join(agentDir, "cni", "net.d"),
	})
	if err != nil {
		return fmt.Errorf("starting containerd to clean the node: %w", err)
	}
	defer d.Stop()
	// The CRI plugin initializes a moment after containerd serves.
	var rt *cri.Runtime
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		rt, err = cri.New(ctx, cri.Config{Endpoint: d.Socket, Dir: filepath.Join(agentDir, "pods")})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("connecting to containerd to clean the node: %w", err)
	}
	defer rt.Close(ctx)
	var errs []error
	if vms, err := vm.New(vm.Config{StateDir: filepath.Join(agentDir, "vms"), Sandboxes: rt}); err == nil {
		refs, err := vms.Pods(ctx)
		errs = append(errs, err)
		for _, ref := range refs {
			errs = append(errs, vms.RemovePod(ctx, ref.UID))
		}
	}
	refs, err := rt.Pods(ctx)
	errs = append(errs, err)
	for _, ref := range refs {
		errs = append(errs, rt.RemovePod(ctx, ref.UID))
	}
	return errors.Join(errs...)
}

// masqueradeRule is a rule of the nat POSTROUTING chain that sends a pod's
// traffic to the masquerade chain the CNI bridge plugin made for it: the
// arguments of `iptables -t nat -D` for it, and that chain.
type masqueradeRule struct {
	spec  []string
	chain string
}

// masqueradeRules lists the CNI masquerade rules of pods in cidr.
func masqueradeRules(cidr string) ([]masqueradeRule, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("iptables", "-w", "-t", "nat", "-S", "POSTROUTING").Output()
	if err != nil {
		return nil, fmt.Errorf("listing nat POSTROUTING: %w", err)
	}
	return parseMasqueradeRules(string(out), prefix), nil
}

// cniRule matches what the CNI bridge plugin appends to nat POSTROUTING
// for a pod, as `iptables -S` prints it.
var cniRule = regexp.MustCompile(`^-A POSTROUTING -s (\S+) -m comment --comment "(name: \\"[^"\\]*\\" id: \\"[0-9a-f]+\\")" -j (CNI-[0-9a-f]+)$`)

// parseMasqueradeRules picks the rules of pods in prefix from the output
// of `iptables -t nat -S POSTROUTING`.
func parseMasqueradeRules(out string, prefix netip.Prefix) []masqueradeRule {
	var rules []masqueradeRule
	for line := range strings.Lines(out) {
		m := cniRule.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		src, err := netip.ParsePrefix(m[1])
		if err != nil || !prefix.Contains(src.Addr()) {
			continue
		}
		comment := strings.ReplaceAll(m[2], `\"`, `"`)
		rules = append(rules, masqueradeRule{
			spec:  []string{"POSTROUTING", "-s", m[1], "-m", "comment", "--comment", comment, "-j", m[3]},
			chain: m[3],
		})
	}
	return rules
}

// removeLeakedMasquerade removes the masquerade rules and chains of the
// bench's pods that outlived them. The CNI bridge plugin removes a pod's
// when its sandbox goes, unless it finds no address on the pod's eth0.
func (n *realNode) removeLeakedMasquerade() error {
	rules, err := masqueradeRules(n.r.cfg.PodCIDR)
	if err != nil {
		return err
	}
	var leaked []masqueradeRule
	for _, rule := range rules {
		if !n.masqBefore[rule.chain] {
			leaked = append(leaked, rule)
		}
	}
	if len(leaked) == 0 {
		return nil
	}
	n.r.problem("real node: %d iptables masquerade rules (nat POSTROUTING → CNI-…) of deleted pods were left on the host; removing them", len(leaked))
	var errs []error
	for _, rule := range leaked {
		for _, args := range [][]string{append([]string{"-D"}, rule.spec...), {"-F", rule.chain}, {"-X", rule.chain}} {
			if out, err := exec.Command("iptables", append([]string{"-w", "-t", "nat"}, args...)...).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out)))
			}
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount below the given directories, deepest
// first, so that they can be removed.
func unmountUnder(dirs ...string) error {
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	var points []string
	for _, m := range mounts {
		for _, d := range dirs {
			if d != "" && strings.HasPrefix(m.Point, d+"/") {
				points = append(points, m.Point)
			}
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// collectServerErrors adds a server's 5xx and 429 answers to the table.
func (r *nodeRunner) collectServerErrors(ctx context.Context, admin *rest.Config, server string) error {
	cs, err := corev1client.NewForConfig(admin)
	if err != nil {
		return err
	}
	samples, err := (&probe{client: cs.RESTClient()}).metrics(ctx)
	if err != nil {
		return err
	}
	for _, s := range samples {
		code := s.labels["code"]
		if s.name != "apiserver_request_total" || !(strings.HasPrefix(code, "5") || code == "429") || s.labels["subresource"] == "/readyz" {
			continue
		}
		resource := s.labels["resource"]
		if sub := s.labels["subresource"]; sub != "" {
			resource += "/" + sub
		}
		r.serverErrors.add(server, s.labels["verb"], resource, code, strconv.FormatFloat(s.value, 'f', -1, 64))
		r.problem("%s server answered %s %s with %s %g times", server, s.labels["verb"], resource, code, s.value)
	}
	return nil
}
