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
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Targets of the scheduler.
const (
	// schedulingTarget is the least end-to-end throughput, in pods/s.
	schedulingTarget = 1000
	// noSlowerMargin is how much slower a run with VM pods may be than
	// the run of container pods only and still count as no slower: less
	// than the variance between runs on a shared machine.
	noSlowerMargin = 0.05
)

const (
	// schedulerStopTimeout bounds how long the scheduler may take to exit
	// after SIGTERM.
	schedulerStopTimeout = 30 * time.Second
	// nodesSyncTimeout bounds how long the scheduler may take to see every
	// node once they are created.
	nodesSyncTimeout = 5 * time.Minute
	// schedNamespace is where the pods are created: the namespace every
	// tenant starts with.
	schedNamespace = metav1.NamespaceDefault
	// benchZones is the number of zones the nodes are spread over.
	benchZones = 3
	// benchGracePeriod keeps the node lifecycle controller away from the
	// bench's nodes, which no agent heartbeats.
	benchGracePeriod = time.Hour
	nodesMetric      = "arcturus_scheduler_nodes"
)

// The shapes of scheduler_perf's templates node-default.yaml (4 cpu, 32Gi,
// 110 pods) and pod-default.yaml (one pause container requesting and
// limited to 100m and 500Mi).
var (
	benchNodeResources = corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	benchPodResources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
	}
)

// SchedulerConfig sizes the scheduler measurement.
type SchedulerConfig struct {
	// Nodes are created, then InitPods pods, scheduled unmeasured, then Pods
	// pods by Clients concurrent clients, once per share of VM pods in
	// VMShares, each run against a fresh server and scheduler.
	Nodes, InitPods, Pods, Clients int
	VMShares                       []float64
	// BindTimeout is how long after the last create every pod may take to
	// be seen bound.
	BindTimeout time.Duration
	// Deployment sizes the run of one Deployment on simulated nodes.
	Deployment DeploymentConfig
}

// NewSchedulerConfig returns the defaults: scheduler_perf's SchedulingBasic
// at 5,000 nodes, whose pods Kubernetes' test utilities create 30 at a
// time (test/utils CreatePod).
func NewSchedulerConfig() *SchedulerConfig {
	return &SchedulerConfig{Nodes: 5000, InitPods: 1000, Pods: 10000, Clients: 30, VMShares: []float64{0, 0.2}, BindTimeout: 2 * time.Minute,
		Deployment: newDeploymentConfig()}
}

// AddFlags binds the configuration to fs.
func (c *SchedulerConfig) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Nodes, "nodes", c.Nodes, "Nodes created (plain Node objects, no agent).")
	fs.IntVar(&c.InitPods, "init-pods", c.InitPods, "Pods created and scheduled before the measured ones, unmeasured, as scheduler_perf's initPods.")
	fs.IntVar(&c.Pods, "pods", c.Pods, "Pods created and scheduled per run, measured; 0 skips these runs.")
	fs.IntVar(&c.Clients, "clients", c.Clients, "Concurrent clients creating the nodes and the pods, on one HTTP/2 connection.")
	fs.Float64SliceVar(&c.VMShares, "vm-share", c.VMShares, "Share of VM pods among the pods, one run against a fresh server and scheduler per value.")
	fs.DurationVar(&c.BindTimeout, "bind-timeout", c.BindTimeout, "How long after the last create every pod may take to be seen bound.")
	c.Deployment.addFlags(fs)
}

// Validate reports impossible sizes.
func (c *SchedulerConfig) Validate() error {
	errs := c.Deployment.validate()
	if c.Pods < 0 {
		errs = append(errs, errors.New("--pods must not be negative"))
	}
	if c.Pods == 0 {
		// The throughput runs are skipped: their other flags do not matter.
		if c.Deployment.Replicas == 0 {
			errs = append(errs, errors.New("--pods and --deployment-replicas are both 0: nothing to measure"))
		}
		return errors.Join(errs...)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"nodes", c.Nodes}, {"clients", c.Clients}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive", f.name))
		}
	}
	if len(c.VMShares) == 0 {
		errs = append(errs, errors.New("--vm-share must name at least one share"))
	}
	for _, s := range c.VMShares {
		if s < 0 || s > 1 || math.IsNaN(s) {
			errs = append(errs, fmt.Errorf("--vm-share %g must be between 0 and 1", s))
		}
	}
	if c.InitPods < 0 {
		errs = append(errs, errors.New("--init-pods must not be negative"))
	}
	if c.BindTimeout <= 0 {
		errs = append(errs, errors.New("--bind-timeout must be positive"))
	}
	return errors.Join(errs...)
}

// schedRunner runs the scheduler measurement. The node bench's runner
// provides the reporting: targets, CPU and server error tables, problems.
type schedRunner struct {
	*nodeRunner
	cfg     *SchedulerConfig
	results []*schedResult
}

// schedResult is what one run measured.
type schedResult struct {
	share float64
	// nodes were created by the clients; the scheduler knew them all
	// nodesSynced after the first create.
	nodes       loadResult
	nodesSynced time.Duration

	// pods were to be created, vms of them VM pods; created were, and bound
	// were seen bound; unbound names the first that was not.
	pods, vms, created, bound int
	create                    loadResult
	unbound                   string
	// wall is from the first create sent to the last binding seen; the
	// latencies, sorted, are per pod from create sent to binding seen;
	// windows count the bindings in each whole second.
	wall                    time.Duration
	all, containers, vmPods []time.Duration
	windows                 []float64

	// CPU and memory over cpuWall: the wall time and up to a tick of the
	// bench's polling.
	cpuWall                    time.Duration
	serverCPU, schedCPU, bench time.Duration
	machine                    machineCPU
	serverRSS, schedRSS        float64

	// The scheduler's and the server's metrics over the pod phase.
	attempts, binds, queued []bucket
	unschedulable, errored  float64
	bindFailures, scheduled float64
	podCreates, podBinds    []bucket
	events                  float64

	watchRestarts, schedLogErrors int
}

func (res *schedResult) throughput() float64 {
	if res.wall <= 0 {
		return 0
	}
	return float64(res.bound) / res.wall.Seconds()
}

// RunScheduler measures the scheduler end to end through the API server,
// as Kubernetes' scheduler_perf SchedulingBasic does: nodes, then pods
// created through the API and bound by an `arcturus scheduler` child
// process through pods/binding, once per share of VM pods, each against a
// fresh `arcturus server` child process. It prints the tables on out and
// progress on log, and fails when a create failed, a pod was not bound, a
// binding failed or a server answered 5xx or 429, after printing every
// figure.
func RunScheduler(ctx context.Context, c *SchedulerConfig, out, log io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	r := &schedRunner{cfg: c, nodeRunner: &nodeRunner{
		out: out, log: progress{w: log, start: time.Now()},
		run:     fmt.Sprintf("%06x", time.Now().UnixMilli()&0xffffff),
		targets: newTable("Against the targets", "", "target", "result", "ratio", "verdict"),
		cpu: newTable("CPU time by phase",
			"CPU seconds from /proc/<pid>/stat of the server (embedded etcd included), the scheduler and the bench process (its clients and the pod watch), over each phase. Nodes: from the first node create until the scheduler knows every node. Pods: from the first pod create until the last binding was seen. Machine: all CPUs from /proc/stat, whoever used them; stolen is time the hypervisor gave to others; other processes are busy time less ours, read as none when steal makes ours the larger.",
			"run", "phase", "wall time", "server CPU", "scheduler CPU", "bench CPU", "machine"),
		serverErrors: newTable("Server errors",
			"apiserver_request_total samples with a 5xx or 429 code, counted since each server started.",
			"server", "verb", "resource", "code", "count"),
	}}
	r.header()
	var err error
	for _, share := range c.VMShares {
		if c.Pods == 0 {
			break
		}
		var res *schedResult
		if res, err = r.runOnce(ctx, share); err != nil {
			break
		}
		r.results = append(r.results, res)
		r.addResult(res)
	}
	r.compare()
	if err == nil && c.Deployment.Replicas > 0 {
		err = r.runDeployment(ctx)
	}
	r.serverErrors.write(r.out)
	if c.Pods > 0 {
		r.cpu.write(r.out)
	}
	r.targets.write(r.out)
	fmt.Fprintf(r.out, "\n%s\n", atEnd())
	if err != nil {
		return err
	}
	if len(r.problems) > 0 {
		return errors.New(strings.Join(r.problems, "; "))
	}
	return nil
}

// header prints what was measured, where and when.
func (r *schedRunner) header() {
	c := r.cfg
	t := newTable("Environment", "", "", "")
	sharing := "server, scheduler and the bench share it"
	if c.Deployment.Replicas > 0 {
		sharing = "server, scheduler, agent (in the Deployment run) and the bench share it"
	}
	addEnvironment(t, sharing)
	t.add("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	server := "`arcturus server` child process with embedded etcd and watch cache, a fresh one per run"
	if c.Pods > 0 && len(lifecycleFlags()) > 0 {
		server += fmt.Sprintf("; --node-monitor-grace-period=%v, so that the node lifecycle controller leaves the agentless nodes Ready (scheduler_perf runs no such controller)", benchGracePeriod)
	}
	t.add("Server", server)
	t.add("Scheduler", "`arcturus scheduler` child process, a fresh one per run, --leader-elect=false, other flags at their defaults (nodes searched adapted to the cluster size as kube-scheduler does)")
	if c.Pods > 0 {
		t.add("Nodes", fmt.Sprintf("%d plain Node objects created by the bench as a system master, as scheduler_perf creates them: 4 cpu, 32Gi, 110 pods allocatable, Ready and VmRuntimeReady, zone label over %d zones. No agent runs them, so no heartbeats or pod status writes compete with scheduling.",
			c.Nodes, benchZones))
		t.add("Pods", fmt.Sprintf("%d per run, measured, after %d created and bound unmeasured (scheduler_perf's initPods), in one tenant's default namespace, created by %d clients on one HTTP/2 connection as the superset Pod (pkg/client, protobuf). Container pods are scheduler_perf's pod-default (one pause container, requests = limits = 100m cpu, 500Mi); VM pods have spec.virtualMachine with the same resources and no containers, spread evenly among them.",
			c.Pods, c.InitPods, c.Clients))
	}
	if c.Deployment.Replicas > 0 {
		t.add("Deployment", c.Deployment.describe())
	}
	t.write(r.out)
}

// lifecycleFlags keeps the server's node lifecycle controller, when it has
// one, from marking the bench's nodes unknown: no agent renews their leases.
// The bench is this executable, so its own server's flags tell.
func lifecycleFlags() []string {
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	apiserver.NewOptions().AddFlags(fs)
	if fs.Lookup("node-monitor-grace-period") == nil {
		return nil
	}
	return []string{"--node-monitor-grace-period=" + benchGracePeriod.String()}
}

// runName names a run in tables and progress lines.
func runName(share float64) string {
	if share == 0 {
		return "container pods"
	}
	return fmt.Sprintf("%g %% VM pods", share*100)
}

// isVM spreads VM pods evenly: pod i is one when the running count of VM
// pods, share×(i+1) rounded down, steps up at i.
func isVM(i int, share float64) bool {
	return math.Floor(float64(i+1)*share) > math.Floor(float64(i)*share)
}

func benchNode(i int) *corev1.Node {
	name := fmt.Sprintf("node-%05d", i)
	now := metav1.Now()
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%benchZones),
		}},
		Status: corev1.NodeStatus{
			Capacity: benchNodeResources, Allocatable: benchNodeResources, Phase: corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "Bench", LastHeartbeatTime: now, LastTransitionTime: now},
				{Type: v1.NodeVMRuntimeReady, Status: corev1.ConditionTrue, Reason: "Bench", LastHeartbeatTime: now, LastTransitionTime: now},
			},
		},
	}
}

func podName(i int) string { return fmt.Sprintf("pod-%05d", i) }

// initPodName names the unmeasured pods, which podIndex does not know.
func initPodName(i int) string { return fmt.Sprintf("init-%05d", i) }

// podIndex is the index in the name of a bench pod.
func podIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "pod-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

func benchPod(name string, vm bool) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	if vm {
		pod.Spec.VirtualMachine = &v1.VirtualMachineSpec{Image: "registry.k8s.io/bench/disk:1", Resources: benchPodResources}
		return pod
	}
	pod.Spec.Containers = []corev1.Container{{
		Name: "pause", Image: "registry.k8s.io/pause:3.10.1",
		Ports:     []corev1.ContainerPort{{ContainerPort: 80}},
		Resources: benchPodResources,
	}}
	return pod
}

// cpuReading is the CPU time of the server, the scheduler, the bench and
// the whole machine at one moment.
type cpuReading struct {
	at                      time.Time
	server, scheduler, self time.Duration
	machine                 machineCPU
}

func readCPU(server, scheduler int) cpuReading {
	return cpuReading{at: time.Now(), server: procCPU(server), scheduler: procCPU(scheduler), self: benchCPU(), machine: readMachineCPU()}
}

// machineCPU is the time all CPUs of the machine spent busy and idle since
// boot, and the time the hypervisor ran something else instead (steal), from
// /proc/stat: it tells whether other work competed for the cores.
type machineCPU struct {
	busy, idle, steal time.Duration
}

// others is the CPU the machine's other processes used: busy less what
// ours used. Under hypervisor steal the per-process counters can count
// time that /proc/stat counts as stolen rather than busy, so the difference
// can come out below zero; it then reads as none.
func (m machineCPU) others(ours ...time.Duration) time.Duration {
	left := m.busy
	for _, d := range ours {
		left -= d
	}
	return max(left, 0)
}

func readMachineCPU() machineCPU {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}
	}
	var v [8]time.Duration
	for i := range v {
		n, _ := strconv.ParseUint(f[i+1], 10, 64)
		v[i] = time.Duration(n) * time.Second / clockTicks
	}
	// user nice system idle iowait irq softirq steal
	return machineCPU{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4], steal: v[7]}
}

func (m machineCPU) sub(o machineCPU) machineCPU {
	return machineCPU{busy: m.busy - o.busy, idle: m.idle - o.idle, steal: m.steal - o.steal}
}

// addCPU adds the CPU used since before to the table.
func (r *schedRunner) addCPU(run, phase string, before, after cpuReading) {
	wall := after.at.Sub(before.at)
	m := after.machine.sub(before.machine)
	r.cpu.add(run, phase, seconds(wall), seconds(after.server-before.server),
		seconds(after.scheduler-before.scheduler), seconds(after.self-before.self),
		fmt.Sprintf("%s busy, %s idle, %s stolen", cores(m.busy, wall), cores(m.idle, wall), cores(m.steal, wall)))
}

// runOnce runs the measurement with one share of VM pods against a fresh
// server and scheduler.
func (r *schedRunner) runOnce(ctx context.Context, share float64) (res *schedResult, err error) {
	c, name := r.cfg, runName(share)
	res = &schedResult{share: share, pods: c.Pods}
	r.log.printf("%s: starting arcturus server", name)
	server, admin, err := startChild(ctx, true, lifecycleFlags()...)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, server.stop(r.log.printf)) }()
	ctx, cancel := server.bound(ctx)
	defer cancel()

	sched, stopScheduler, err := r.schedulerFor(ctx, server, name)
	if err != nil {
		return nil, err
	}
	// Before the server stops, whose directory holds the log.
	defer func() {
		_, stopErr := stopScheduler()
		err = errors.Join(err, stopErr)
	}()
	ctx, cancelSched := sched.bound(ctx)
	defer cancelSched()

	conn, err := newConnection(admin, "scheduler-bench", 5000, 10000)
	if err != nil {
		return nil, err
	}
	defer conn.close()
	cs, err := kubernetes.NewForConfigAndClient(conn.config, conn.http)
	if err != nil {
		return nil, err
	}
	core, err := client.NewCore(conn.config, conn.http)
	if err != nil {
		return nil, err
	}
	serverProbe := &probe{client: cs.CoreV1().RESTClient(), pid: server.pid()}

	// Nodes, as a system master, then wait for the scheduler to know them.
	r.log.printf("%s: creating %d nodes", name, c.Nodes)
	before := readCPU(server.pid(), sched.pid())
	res.nodes = closedLoop(ctx, c.Clients, c.Nodes, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, benchNode(i), metav1.CreateOptions{})
		return err
	}, nil)
	if n := res.nodes.Failed(); n > 0 {
		r.problem("%s: %d node creates failed, first: %s", name, n, res.nodes.Failures[0].Example)
	}
	if err := sched.waitNodes(ctx, res.nodes.Count); err != nil {
		return nil, err
	}
	after := readCPU(server.pid(), sched.pid())
	res.nodesSynced = after.at.Sub(before.at)
	r.addCPU(name, fmt.Sprintf("%d nodes", c.Nodes), before, after)
	r.log.printf("%s: %d nodes created in %s, known to the scheduler after %s", name, res.nodes.Count, seconds(res.nodes.Elapsed), seconds(res.nodesSynced))

	tenant := tenancy.Name("bench-sched-" + r.run)
	if err := r.tenant(ctx, conn, tenant); err != nil {
		return nil, err
	}
	run := &schedRun{res: res, server: server, sched: sched, admin: admin, probe: serverProbe, core: core, tenant: tenant}
	if err := r.scheduleInitPods(ctx, run); err != nil {
		return nil, err
	}
	if err := r.schedulePods(ctx, run); err != nil {
		return nil, err
	}
	// Before the scheduler stops: requests it cancels on its way out could
	// count as errors.
	if err := r.collectServerErrors(ctx, admin, name); err != nil {
		return nil, err
	}
	if res.schedLogErrors, err = stopScheduler(); err != nil {
		return nil, err
	}
	return res, nil
}

// schedulerFor starts a scheduler for server and waits until it is
// ready. stop stops it, once, shows the error lines of its log and returns
// how many there were; it must run before the server stops, whose
// directory holds the log.
func (r *schedRunner) schedulerFor(ctx context.Context, server *childServer, name string) (sched *childScheduler, stop func() (int, error), err error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, nil, err
	}
	r.log.printf("%s: starting arcturus scheduler", name)
	sched, err = startScheduler(filepath.Join(server.dir, "scheduler.log"),
		filepath.Join(server.dir, "data", "admin.kubeconfig"), "127.0.0.1:"+strconv.Itoa(ports[0]))
	if err != nil {
		return nil, nil, err
	}
	stopped := false
	stop = func() (int, error) {
		if stopped {
			return 0, nil
		}
		stopped = true
		stopErr := sched.stop(schedulerStopTimeout)
		total, lines, logErr := logErrors(sched.logPath, maxLoggedErrors)
		if logErr == nil {
			r.log.printf("%s: scheduler log: %d error lines", name, total)
			for _, l := range lines {
				r.log.printf("  %s", l)
			}
		}
		return total, errors.Join(stopErr, logErr)
	}
	if err := sched.waitReady(ctx, readyTimeout, "listing pods and nodes", nil); err != nil {
		_, stopErr := stop()
		return nil, nil, errors.Join(err, stopErr)
	}
	return sched, stop, nil
}

// tenant creates the bench's tenant and waits for its default namespace.
func (r *schedRunner) tenant(ctx context.Context, conn *connection, tenant tenancy.Name) error {
	tc, err := conn.tenancyClient()
	if err != nil {
		return err
	}
	if err := createTenant(ctx, tc, tenant); err != nil {
		return err
	}
	tenantCore, err := conn.core(tenant)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := tenantCore.Namespaces().Get(ctx, schedNamespace, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the %s namespace of tenant %s: %w", schedNamespace, tenant, err)
	}
	return nil
}

// waitNodes waits until the scheduler reports want nodes.
func (s *childScheduler) waitNodes(ctx context.Context, want int) error {
	var have float64
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, nodesSyncTimeout, true, func(ctx context.Context) (bool, error) {
		samples, err := s.metrics(ctx)
		if err != nil {
			return false, nil
		}
		have, _ = value(samples, nodesMetric)
		return int(have) == want, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the scheduler to know %d nodes (it knows %.0f): %w", want, have, err)
	}
	return nil
}

// schedRun is what the pod phase of one run works with.
type schedRun struct {
	res    *schedResult
	server *childServer
	sched  *childScheduler
	admin  *rest.Config
	// probe reads the server's /metrics; core creates the pods in tenant.
	probe  *probe
	core   *client.Core
	tenant tenancy.Name
}

// createPod creates pod in the run's tenant and namespace. The created pod
// the server answers with is not decoded: the bench's CPU is measured too.
func (run *schedRun) createPod(ctx context.Context, pod *v1.Pod) error {
	return run.core.Request(http.MethodPost, run.tenant).Namespace(schedNamespace).Resource("pods").Body(pod).Do(ctx).Error()
}

// scheduleInitPods creates InitPods pods and waits until all are bound, so
// that, as in scheduler_perf, the measured pods meet a server and a
// scheduler that already hold pods.
func (r *schedRunner) scheduleInitPods(ctx context.Context, run *schedRun) error {
	c, name := r.cfg, runName(run.res.share)
	if c.InitPods == 0 {
		return nil
	}
	r.log.printf("%s: creating %d pods and waiting until they are bound, unmeasured", name, c.InitPods)
	start := time.Now()
	created := closedLoop(ctx, c.Clients, c.InitPods, func(ctx context.Context, i int) error {
		return run.createPod(ctx, benchPod(initPodName(i), isVM(i, run.res.share)))
	}, nil)
	if n := created.Failed(); n > 0 {
		return fmt.Errorf("%s: %d of the %d unmeasured pod creates failed, first: %s", name, n, c.InitPods, created.Failures[0].Example)
	}
	// All are bound once the namespace has no pod without a node.
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, c.BindTimeout, true, func(ctx context.Context) (bool, error) {
		unbound, err := run.core.ListPods(ctx, run.tenant, schedNamespace, metav1.ListOptions{FieldSelector: "spec.nodeName=", Limit: 1})
		return err == nil && len(unbound.Items) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for the %d unmeasured pods to be bound: %w", name, c.InitPods, err)
	}
	r.log.printf("%s: %d unmeasured pods bound %s after the first create", name, c.InitPods, seconds(time.Since(start)))
	return nil
}

// schedulePods creates the pods while a watch notes when each is first
// seen bound, and reads what the server and the scheduler did meanwhile.
func (r *schedRunner) schedulePods(ctx context.Context, run *schedRun) error {
	c, res, server, sched, tenant := r.cfg, run.res, run.server, run.sched, run.tenant
	name := runName(res.share)
	// The watch has a connection of its own, as a second client would.
	watchConn, err := newConnection(run.admin, "scheduler-bench-watch", 5000, 10000)
	if err != nil {
		return err
	}
	defer watchConn.close()
	watchCore, err := client.NewCore(watchConn.config, watchConn.http)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		boundAt = make([]time.Time, c.Pods)
		bound   atomic.Int64
	)
	// Only bound pods: the server drops the others' events for this watch
	// rather than the bench decoding them, on the CPU it measures.
	w, err := watchPods(ctx, watchCore, tenant, schedNamespace, "spec.nodeName!=", func(pod *v1.Pod, at time.Time) {
		i, ok := podIndex(pod.Name)
		if pod.Spec.NodeName == "" || !ok || i < 0 || i >= len(boundAt) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if boundAt[i].IsZero() {
			boundAt[i] = at
			bound.Add(1)
		}
	})
	if err != nil {
		return err
	}
	defer w.stop()

	schedBefore, err := sched.metrics(ctx)
	if err != nil {
		return err
	}
	serverBefore, err := run.probe.metrics(ctx)
	if err != nil {
		return err
	}
	sentAt := make([]time.Time, c.Pods)
	created := make([]bool, c.Pods)
	var createdCount atomic.Int64
	for i := range c.Pods {
		if isVM(i, res.share) {
			res.vms++
		}
	}
	r.log.printf("%s: creating %d pods (%d VM pods) with %d clients", name, c.Pods, res.vms, c.Clients)
	cpuBefore := readCPU(server.pid(), sched.pid())
	createDone := make(chan loadResult, 1)
	go func() {
		createDone <- closedLoop(ctx, c.Clients, c.Pods, func(ctx context.Context, i int) error {
			pod := benchPod(podName(i), isVM(i, res.share))
			sentAt[i] = time.Now()
			err := run.createPod(ctx, pod)
			if err == nil {
				created[i] = true
				createdCount.Add(1)
			}
			return err
		}, nil)
	}()

	var (
		creating                 = true
		createdBy                time.Time
		lastProgress, lastSample time.Time
		cpuAfter                 cpuReading
	)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if creating {
				<-createDone
			}
			if isClosed(sched.exited) {
				return fmt.Errorf("the scheduler exited: %v", sched.waitErr)
			}
			return ctx.Err()
		case res.create = <-createDone:
			creating, createdBy = false, time.Now()
			res.created = res.create.Count
			if n := res.create.Failed(); n > 0 {
				r.problem("%s: %d pod creates failed, first: %s", name, n, res.create.Failures[0].Example)
			}
		case <-tick.C:
		}
		now := time.Now()
		if now.Sub(lastSample) >= time.Second {
			lastSample = now
			if v, err := rss(server.pid()); err == nil {
				res.serverRSS = max(res.serverRSS, v)
			}
			if v, err := rss(sched.pid()); err == nil {
				res.schedRSS = max(res.schedRSS, v)
			}
		}
		if now.Sub(lastProgress) >= 5*time.Second {
			lastProgress = now
			cur := readCPU(server.pid(), sched.pid())
			wall := cur.at.Sub(cpuBefore.at)
			r.log.printf("%s: %d created, %d bound after %s; server %s, scheduler %s", name, createdCount.Load(), bound.Load(),
				seconds(wall), cores(cur.server-cpuBefore.server, wall), cores(cur.scheduler-cpuBefore.scheduler, wall))
		}
		if !creating && int(bound.Load()) >= res.created {
			cpuAfter = readCPU(server.pid(), sched.pid())
			break
		}
		if !creating && now.Sub(createdBy) > c.BindTimeout {
			cpuAfter = readCPU(server.pid(), sched.pid())
			r.problem("%s: %d of %d pods not seen bound %v after the last create", name, res.created-int(bound.Load()), res.created, c.BindTimeout)
			break
		}
	}
	r.addCPU(name, fmt.Sprintf("%d pods", c.Pods), cpuBefore, cpuAfter)
	res.serverCPU = cpuAfter.server - cpuBefore.server
	res.schedCPU = cpuAfter.scheduler - cpuBefore.scheduler
	res.bench = cpuAfter.self - cpuBefore.self
	res.machine = cpuAfter.machine.sub(cpuBefore.machine)
	res.cpuWall = cpuAfter.at.Sub(cpuBefore.at)

	schedAfter, err := sched.metrics(ctx)
	if err != nil {
		return err
	}
	serverAfter, err := run.probe.metrics(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	res.watchRestarts = w.restarts
	w.mu.Unlock()

	mu.Lock()
	var first, last time.Time
	var boundTimes []time.Time
	for i := range c.Pods {
		if !created[i] {
			continue
		}
		if first.IsZero() || sentAt[i].Before(first) {
			first = sentAt[i]
		}
		if boundAt[i].IsZero() {
			if res.unbound == "" {
				res.unbound = podName(i)
			}
			continue
		}
		res.bound++
		boundTimes = append(boundTimes, boundAt[i])
		if boundAt[i].After(last) {
			last = boundAt[i]
		}
		d := boundAt[i].Sub(sentAt[i])
		res.all = append(res.all, d)
		if isVM(i, res.share) {
			res.vmPods = append(res.vmPods, d)
		} else {
			res.containers = append(res.containers, d)
		}
	}
	mu.Unlock()
	for _, s := range [][]time.Duration{res.all, res.vmPods, res.containers} {
		slices.Sort(s)
	}
	if res.bound > 0 {
		res.wall = last.Sub(first)
	}
	res.windows = boundPerSecond(boundTimes)

	schedDelta := func(name string, labels map[string]string) []bucket {
		return histogramDelta(histogram(schedBefore, name, labels), histogram(schedAfter, name, labels))
	}
	const attempts = "arcturus_scheduler_attempt_duration_seconds"
	res.attempts = schedDelta(attempts, map[string]string{"result": "scheduled"})
	res.unschedulable = histogramCount(schedDelta(attempts, map[string]string{"result": "unschedulable"}))
	res.errored = histogramCount(schedDelta(attempts, map[string]string{"result": "error"}))
	res.binds = schedDelta("arcturus_scheduler_binding_duration_seconds", nil)
	res.queued = schedDelta("arcturus_scheduler_pod_scheduling_duration_seconds", nil)
	res.bindFailures = counter(schedAfter, "arcturus_scheduler_binding_failures_total", nil) - counter(schedBefore, "arcturus_scheduler_binding_failures_total", nil)
	res.scheduled = counter(schedAfter, "arcturus_scheduler_scheduled_pods_total", nil) - counter(schedBefore, "arcturus_scheduler_scheduled_pods_total", nil)
	serverDelta := func(labels map[string]string) []bucket {
		return histogramDelta(histogram(serverBefore, requestDuration, labels), histogram(serverAfter, requestDuration, labels))
	}
	res.podCreates = serverDelta(map[string]string{"resource": "pods", "subresource": "", "verb": "POST"})
	res.podBinds = serverDelta(map[string]string{"resource": "pods", "subresource": "binding", "verb": "POST"})
	eventPosts := map[string]string{"resource": "events", "verb": "POST"}
	res.events = counter(serverAfter, "apiserver_request_total", eventPosts) - counter(serverBefore, "apiserver_request_total", eventPosts)
	if res.bindFailures > 0 {
		r.problem("%s: the scheduler counted %.0f failed bindings", name, res.bindFailures)
	}
	r.log.printf("%s: %d of %d pods bound in %s: %.0f pods/s, latency p50 %s, p99 %s; server %s, scheduler %s",
		name, res.bound, res.created, seconds(res.wall), res.throughput(), ms(percentile(res.all, 0.5)), ms(percentile(res.all, 0.99)),
		seconds(res.serverCPU), seconds(res.schedCPU))
	return nil
}

// boundPerSecond counts the bindings in each whole second from the first,
// as scheduler_perf samples its throughput; a last partial second counts
// only when there is no whole one.
func boundPerSecond(times []time.Time) []float64 {
	if len(times) == 0 {
		return nil
	}
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	first, span := sorted[0], sorted[len(sorted)-1].Sub(sorted[0])
	whole := int(span / time.Second)
	if whole == 0 {
		if span <= 0 {
			return []float64{float64(len(sorted))}
		}
		return []float64{float64(len(sorted)) / span.Seconds()}
	}
	windows := make([]float64, whole)
	for _, t := range sorted {
		if i := int(t.Sub(first) / time.Second); i < whole {
			windows[i]++
		}
	}
	return windows
}

// median and mean of a sample; NaN when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// latencies formats the p50, p99 and max of sorted durations.
func latencies(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "—"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s", ms(percentile(sorted, 0.5)), ms(percentile(sorted, 0.99)), ms(sorted[len(sorted)-1]))
}

// perPod formats CPU time over a run as cores and per bound pod.
func perPod(cpu, wall time.Duration, pods int) string {
	if pods == 0 {
		return seconds(cpu)
	}
	return fmt.Sprintf("%s (%s, %s per pod)", seconds(cpu), cores(cpu, wall), ms(cpu/time.Duration(pods)))
}

// addResult prints the table of one run and adds its verdict.
func (r *schedRunner) addResult(res *schedResult) {
	c, name := r.cfg, runName(res.share)
	t := newTable(fmt.Sprintf("%d pods on %d nodes, %s", res.pods, c.Nodes, name),
		"Wall time is from sending the first pod create to the pod watch seeing the last pod with spec.nodeName; throughput is the pods bound over it. scheduler_perf style: pods seen bound in each whole second from the first binding. Latency is per pod, from sending its create to the watch seeing it bound. Scheduler figures are the deltas of its /metrics over the pod phase, server latencies apiserver_request_duration_seconds, all estimated within their buckets. CPU is from /proc/<pid>/stat over the wall time, RSS the peak of VmRSS sampled every second.",
		"", "")
	t.add("Nodes", fmt.Sprintf("%d created in %s (%s), known to the scheduler %s after the first create; %s failed",
		res.nodes.Count, seconds(res.nodes.Elapsed), perSecond(res.nodes.Rate()), seconds(res.nodesSynced), failed(res.nodes.Summary)))
	t.add("Pods bound / created", fmt.Sprintf("%d / %d (%d VM pods); %s creates failed", res.bound, res.created, res.vms, failed(res.create.Summary)))
	if res.unbound != "" {
		t.add("First pod not seen bound", res.unbound)
	}
	t.add("Wall time, first create → last binding", seconds(res.wall))
	t.add("**Throughput, end to end**", fmt.Sprintf("**%s**", perSecond(res.throughput())))
	if len(res.windows) > 0 {
		t.add("Throughput, scheduler_perf style", fmt.Sprintf("median %s, average %s, min %s, max %s over %d s",
			perSecond(median(res.windows)), perSecond(mean(res.windows)), perSecond(slices.Min(res.windows)), perSecond(slices.Max(res.windows)), len(res.windows)))
	}
	t.add("Creates", fmt.Sprintf("%s achieved; create call p50 %s, p99 %s", perSecond(res.create.Rate()), ms(res.create.P50), ms(res.create.P99)))
	t.add("**Latency, create → bound**", "**"+latencies(res.all)+"**")
	if res.share > 0 {
		t.add("Latency, container pods", latencies(res.containers))
		t.add("Latency, VM pods", latencies(res.vmPods))
	}
	t.add("Scheduler: attempts (filters and scores)", fmt.Sprintf("%.0f scheduled, p50 %s, p99 %s; %.0f unschedulable, %.0f errors",
		histogramCount(res.attempts), lagQuantile(0.5, res.attempts), lagQuantile(0.99, res.attempts), res.unschedulable, res.errored))
	t.add("Scheduler: queued → binding written", fmt.Sprintf("p50 %s, p99 %s", lagQuantile(0.5, res.queued), lagQuantile(0.99, res.queued)))
	t.add("Scheduler: binding calls", fmt.Sprintf("%.0f bound, p50 %s, p99 %s; %.0f failures", res.scheduled,
		lagQuantile(0.5, res.binds), lagQuantile(0.99, res.binds), res.bindFailures))
	t.add("Server: pod creates / bindings", fmt.Sprintf("p50 %s / %s, p99 %s / %s",
		lagQuantile(0.5, res.podCreates), lagQuantile(0.5, res.podBinds), lagQuantile(0.99, res.podCreates), lagQuantile(0.99, res.podBinds)))
	t.add("Server: events created (the scheduler's Scheduled events)", fmt.Sprintf("%.0f", res.events))
	t.add("Server CPU", perPod(res.serverCPU, res.cpuWall, res.bound))
	t.add("Scheduler CPU", perPod(res.schedCPU, res.cpuWall, res.bound))
	t.add("Bench CPU", perPod(res.bench, res.cpuWall, res.bound))
	others := res.machine.others(res.serverCPU, res.schedCPU, res.bench)
	t.add("Machine CPU (all processes)", fmt.Sprintf("%s busy, of which %s not the server, scheduler or bench; %s idle; %s stolen by the hypervisor",
		cores(res.machine.busy, res.cpuWall), cores(others, res.cpuWall), cores(res.machine.idle, res.cpuWall), cores(res.machine.steal, res.cpuWall)))
	t.add("Peak RSS, server / scheduler", fmt.Sprintf("%s / %s", mib(res.serverRSS), mib(res.schedRSS)))
	t.add("Pod watch restarts / scheduler log error lines", fmt.Sprintf("%d / %d", res.watchRestarts, res.schedLogErrors))
	t.write(r.out)

	ratio := res.throughput() / schedulingTarget
	r.targetMet(fmt.Sprintf("≥ %d pods/s end to end, %d pods on %d nodes, %s", schedulingTarget, res.pods, c.Nodes, name),
		fmt.Sprintf("%s over %s (scheduler_perf median %s); latency %s", perSecond(res.throughput()), seconds(res.wall),
			perSecond(median(res.windows)), latencies(res.all)), ratio, ratio >= 1)
}

// compare adds a verdict for each run with VM pods against the first run of
// container pods only: no slower in throughput nor in latency.
func (r *schedRunner) compare() {
	i := slices.IndexFunc(r.results, func(res *schedResult) bool { return res.share == 0 })
	if i < 0 {
		return
	}
	base := r.results[i]
	for _, res := range r.results {
		if res.share == 0 || base.throughput() == 0 || len(base.all) == 0 || len(res.all) == 0 {
			continue
		}
		ratio := res.throughput() / base.throughput()
		p50 := float64(percentile(res.all, 0.5)) / float64(percentile(base.all, 0.5))
		p99 := float64(percentile(res.all, 0.99)) / float64(percentile(base.all, 0.99))
		r.targetMet(fmt.Sprintf("%s no slower than container pods only (throughput within %.0f %%, latency ratios for information)", runName(res.share), noSlowerMargin*100),
			fmt.Sprintf("%s vs %s; latency p50 %s vs %s (%.2f×), p99 %s vs %s (%.2f×)", perSecond(res.throughput()), perSecond(base.throughput()),
				ms(percentile(res.all, 0.5)), ms(percentile(base.all, 0.5)), p50, ms(percentile(res.all, 0.99)), ms(percentile(base.all, 0.99)), p99),
			ratio, ratio >= 1-noSlowerMargin)
	}
}
