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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	deployName      = "bench"
	deployContainer = "app"
	// The images as `kubectl create deployment --image busybox` would name
	// them; the simulated runtime pulls nothing.
	deployImage        = "docker.io/library/busybox:1.36"
	deployUpdatedImage = "docker.io/library/busybox:1.37"
	// The simulated nodes have scheduler_perf's node-default shape, as the
	// throughput runs' nodes.
	deployNodeCPU, deployNodeMemory = "4", "32Gi"
	deployPodsPerNode               = 110
	// deployStatusEvery is how often the Deployment's status is read.
	deployStatusEvery = 200 * time.Millisecond
	// deployRunName names the run in tables and progress lines.
	deployRunName = "deployment"
)

// DeploymentConfig sizes the Deployment run of the scheduler bench.
type DeploymentConfig struct {
	// Replicas of one Deployment are rolled out on Nodes simulated nodes,
	// then scaled to twice as many, then updated; each phase may take
	// Timeout.
	Replicas, Nodes int
	Timeout         time.Duration
}

func newDeploymentConfig() DeploymentConfig {
	return DeploymentConfig{Replicas: 1000, Nodes: 100, Timeout: 10 * time.Minute}
}

func (c *DeploymentConfig) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Replicas, "deployment-replicas", c.Replicas, "Replicas of one Deployment rolled out on simulated nodes, then scaled to twice as many and updated, against a fresh server, scheduler and agent; 0 skips this run.")
	fs.IntVar(&c.Nodes, "deployment-nodes", c.Nodes, fmt.Sprintf("Simulated nodes of the Deployment run, all of one agent (%s cpu, %s, %d pods each).", deployNodeCPU, deployNodeMemory, deployPodsPerNode))
	fs.DurationVar(&c.Timeout, "deployment-timeout", c.Timeout, "How long each phase of the Deployment run may take.")
}

// peakPods is how many pods the image update of twice replicas may run at
// once: the default maxSurge of 25 %, rounded up, over them.
func peakPods(replicas int) int {
	n := 2 * replicas
	return n + (n+3)/4
}

func (c *DeploymentConfig) validate() []error {
	if c.Replicas < 0 {
		return []error{errors.New("--deployment-replicas must not be negative")}
	}
	if c.Replicas == 0 {
		return nil
	}
	var errs []error
	if c.Nodes <= 0 {
		errs = append(errs, errors.New("--deployment-nodes must be positive"))
	} else if need := peakPods(c.Replicas); need > c.Nodes*deployPodsPerNode {
		errs = append(errs, fmt.Errorf("--deployment-nodes %d hold %d pods; the update of %d replicas runs up to %d",
			c.Nodes, c.Nodes*deployPodsPerNode, 2*c.Replicas, need))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("--deployment-timeout must be positive"))
	}
	return errs
}

// describe is the run's row of the environment table.
func (c *DeploymentConfig) describe() string {
	return fmt.Sprintf("One apps/v1 Deployment of %d replicas (one busybox container requesting 10m cpu, default RollingUpdate strategy: 25 %% surge, 25 %% unavailable) created by a tenant admin (client-go, JSON) in its default namespace, then scaled to %d through deployments/scale, then its image changed by a strategic merge patch as `kubectl set image` does. Against a fresh server with default flags (its in-process ReplicaSet and Deployment controllers create and delete the pods), a fresh scheduler and one `arcturus agent --simulate %d` with a node identity: %s cpu, %s, %d pods per node, whose simulated runtime reports each pod running as soon as it syncs it.",
		c.Replicas, 2*c.Replicas, c.Nodes, deployNodeCPU, deployNodeMemory, deployPodsPerNode)
}

// deployPod is what the pod watch saw of one pod of the Deployment.
type deployPod struct {
	name string
	// phase is the index of the phase during which the pod was first seen.
	phase int
	// When the pod was first seen, first seen with spec.nodeName, first
	// seen Running and Ready while not being deleted.
	seen, bound, running time.Time
}

// deployPods notes, from the pod watch, when each pod was created, bound
// and running, and which phase created it.
type deployPods struct {
	mu    sync.Mutex
	phase int
	pods  map[types.UID]*deployPod
}

func (d *deployPods) observe(pod *v1.Pod, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pods[pod.UID]
	if p == nil {
		p = &deployPod{name: pod.Name, phase: d.phase, seen: at}
		d.pods[pod.UID] = p
	}
	if p.bound.IsZero() && pod.Spec.NodeName != "" {
		p.bound = at
	}
	if p.running.IsZero() && pod.DeletionTimestamp == nil && podRunning(pod) && podReady(pod) {
		p.running = at
	}
}

// startPhase makes the pods seen from now on the phase's, and returns the
// names of those seen before.
func (d *deployPods) startPhase(phase int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.phase = phase
	names := make([]string, 0, len(d.pods))
	for _, p := range d.pods {
		names = append(names, p.name)
	}
	return names
}

// count counts the pods of a phase seen, seen bound and seen running.
func (d *deployPods) count(phase int) (created, bound, running int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.pods {
		if p.phase != phase {
			continue
		}
		created++
		if !p.bound.IsZero() {
			bound++
		}
		if !p.running.IsZero() {
			running++
		}
	}
	return created, bound, running
}

func podReady(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// deployCPU is the CPU time of the processes of the Deployment run at one
// moment.
type deployCPU struct {
	cpuReading
	agent time.Duration
}

// deployPhase is one phase of the Deployment run: a request, then the wait
// until its pods run and the Deployment says it is done.
type deployPhase struct {
	name string
	// want new pods are expected Running and Ready; replicas is the
	// Deployment's spec.replicas after the request.
	want, replicas int
	// rollout says old pods go away, and the phase waits until they are.
	rollout bool
	// send makes the request and returns the Deployment's generation after
	// it.
	send func(ctx context.Context) (int64, error)

	start         time.Time
	before, after deployCPU
	failed        string
	// Counts of the phase's new pods seen, seen bound and seen running, and
	// the old pods of a rollout, those of them seen gone.
	created, bound, running, old, gone int
	// After start: when the last of the new pods was first seen, seen
	// bound, seen Running and Ready; when the Deployment's status was first
	// read complete; when the last old pod was seen gone.
	lastCreated, lastBound, lastRunning, complete, lastGone time.Duration
	completeSeen                                            bool
	// Per new pod, from first seen to seen bound and to seen running,
	// sorted.
	toBound, toRunning []time.Duration
}

func (p *deployPhase) wall() time.Duration { return p.after.at.Sub(p.before.at) }

// deployRun is the Deployment run's processes, clients and results.
type deployRun struct {
	r      *schedRunner
	cfg    DeploymentConfig
	server *childServer
	sched  *childScheduler
	agent  *childAgent
	tenant tenancy.Name
	apps   kubernetes.Interface
	watch  *podWatch
	pods   *deployPods
	// conns are the tenant admin's connections, closed at the end.
	conns []*connection

	nodesReady                     time.Duration
	phases                         []*deployPhase
	cpu                            *table
	serverRSS, schedRSS, agentRSS  float64
	watchRestarts                  int
	schedLogErrors, agentLogErrors int
}

func (d *deployRun) readCPU() deployCPU {
	c := deployCPU{cpuReading: readCPU(d.server.pid(), d.sched.pid())}
	if d.agent != nil {
		c.agent = procCPU(d.agent.pid())
	}
	return c
}

// sampleRSS keeps the peak resident memory of the processes.
func (d *deployRun) sampleRSS() {
	if v, err := rss(d.server.pid()); err == nil {
		d.serverRSS = max(d.serverRSS, v)
	}
	if v, err := rss(d.sched.pid()); err == nil {
		d.schedRSS = max(d.schedRSS, v)
	}
	if d.agent != nil {
		if v, err := rss(d.agent.pid()); err == nil {
			d.agentRSS = max(d.agentRSS, v)
		}
	}
}

func (d *deployRun) addCPU(phase string, before, after deployCPU) {
	wall := after.at.Sub(before.at)
	m := after.machine.sub(before.machine)
	d.cpu.add(phase, seconds(wall), seconds(after.server-before.server), seconds(after.scheduler-before.scheduler),
		seconds(after.agent-before.agent), seconds(after.self-before.self),
		fmt.Sprintf("%s busy, %s idle, %s stolen", cores(m.busy, wall), cores(m.idle, wall), cores(m.steal, wall)))
}

// runDeployment rolls out one Deployment on simulated nodes against a fresh
// server, scheduler and agent, then scales it to twice its replicas, then
// changes its image, and times each until its pods run.
func (r *schedRunner) runDeployment(ctx context.Context) (err error) {
	c := r.cfg.Deployment
	name := deployRunName
	r.log.printf("%s: starting arcturus server", name)
	// Default flags: the agent renews the nodes' leases.
	server, admin, err := startChild(ctx, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, server.stop(r.log.printf)) }()
	ctx, cancel := server.bound(ctx)
	defer cancel()
	sched, stopScheduler, err := r.schedulerFor(ctx, server, name)
	if err != nil {
		return err
	}
	d := &deployRun{r: r, cfg: c, server: server, sched: sched,
		pods: &deployPods{phase: -1, pods: map[types.UID]*deployPod{}},
		cpu: newTable("CPU time by phase, Deployment",
			"CPU seconds from /proc/<pid>/stat of the server (embedded etcd and the ReplicaSet and Deployment controllers included), the scheduler, the agent of the simulated nodes and the bench process (its requests, status reads and pod watch), over each phase, from the request sent until the phase is done. Machine: all CPUs from /proc/stat, whoever used them.",
			"phase", "wall time", "server CPU", "scheduler CPU", "agent CPU", "bench CPU", "machine"),
	}
	// Before the server stops, whose directory holds the logs.
	defer func() {
		n, stopErr := stopScheduler()
		d.schedLogErrors = max(d.schedLogErrors, n)
		err = errors.Join(err, stopErr)
	}()
	ctx, cancelSched := sched.bound(ctx)
	defer cancelSched()

	agentLog := filepath.Join(server.dir, "agent.log")
	defer func() {
		if d.agent != nil {
			err = errors.Join(err, d.agent.stop())
		}
	}()
	if err := d.startNodes(ctx, admin, agentLog); err != nil {
		return err
	}
	ctx, cancelAgent := d.agent.bound(ctx)
	defer cancelAgent()

	defer func() {
		for _, conn := range d.conns {
			conn.close()
		}
	}()
	if err := d.startTenant(ctx, admin); err != nil {
		return err
	}
	defer d.watch.stop()
	if err := d.measure(ctx); err != nil {
		return err
	}
	d.watch.mu.Lock()
	d.watchRestarts = d.watch.restarts
	d.watch.mu.Unlock()

	// Before the agent and the scheduler stop: requests they cancel on
	// their way out could count as errors.
	if err := r.collectServerErrors(ctx, admin, name); err != nil {
		return err
	}
	stopErr := d.agent.stop()
	d.agent = nil
	if stopErr != nil {
		return stopErr
	}
	total, lines, err := logErrors(agentLog, maxLoggedErrors)
	if err != nil {
		return err
	}
	d.agentLogErrors = total
	r.log.printf("%s: agent log: %d error lines", name, total)
	for _, l := range lines {
		r.log.printf("  %s", l)
	}
	if d.schedLogErrors, err = stopScheduler(); err != nil {
		return err
	}
	d.report()
	return nil
}

// startNodes starts the agent of the simulated nodes and waits until every
// node is Ready and known to the scheduler.
func (d *deployRun) startNodes(ctx context.Context, admin *rest.Config, logPath string) error {
	c, r := d.cfg, d.r
	dir := filepath.Join(d.server.dir, "agent")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// A node identity, as bench node gives its simulated nodes, so that
	// the server authorizes the agent's requests as a node's.
	kubeconfig := filepath.Join(dir, "node.kubeconfig")
	data, err := mintKubeconfig(d.server, admin.Host, string(tenancy.System), pki.ClientIdentity{
		User: "system:node:sim", Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
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
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	r.log.printf("%s: starting arcturus agent --simulate %d", deployRunName, c.Nodes)
	before := d.readCPU()
	d.agent, err = startAgent(logPath, "127.0.0.1:"+strconv.Itoa(ports[1]), 0,
		"--kubeconfig", kubeconfig, "--simulate", strconv.Itoa(c.Nodes), "--data-dir", filepath.Join(dir, "data"),
		"--port", strconv.Itoa(ports[0]), "--simulate-cpu", deployNodeCPU, "--simulate-memory", deployNodeMemory,
		"--simulate-pods", strconv.Itoa(deployPodsPerNode))
	if err != nil {
		return err
	}
	err = d.agent.waitRegistered(ctx, c.Timeout, func() {
		r.log.printf("%s: %d nodes registered after %s", deployRunName, countNodes(ctx, cs), seconds(time.Since(before.at)))
	})
	if err != nil {
		return err
	}
	ready := 0
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, c.Timeout, true, func(ctx context.Context) (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready = 0
		for i := range nodes.Items {
			for _, cond := range nodes.Items[i].Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= c.Nodes, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d nodes to be Ready (%d are): %w", c.Nodes, ready, err)
	}
	if err := d.sched.waitNodes(ctx, c.Nodes); err != nil {
		return err
	}
	after := d.readCPU()
	d.nodesReady = after.at.Sub(before.at)
	d.addCPU(fmt.Sprintf("%d nodes: agent started → all Ready and known to the scheduler", c.Nodes), before, after)
	r.log.printf("%s: %d nodes Ready and known to the scheduler %s after the agent started", deployRunName, c.Nodes, seconds(d.nodesReady))
	return nil
}

// mintKubeconfig writes a kubeconfig for id signed by the server's CA.
func mintKubeconfig(server *childServer, host, contextName string, id pki.ClientIdentity) ([]byte, error) {
	ca, err := pki.LoadOrCreateCA(apiserver.TLSDir(filepath.Join(server.dir, "data")), "arcturus-ca")
	if err != nil {
		return nil, err
	}
	return ca.Kubeconfig(host, contextName, id)
}

// startTenant creates the tenant, the clients of its admin and the pod
// watch.
func (d *deployRun) startTenant(ctx context.Context, admin *rest.Config) error {
	conn, err := newConnection(admin, "deployment-bench-admin", 100, 200)
	if err != nil {
		return err
	}
	defer conn.close()
	d.tenant = tenancy.Name("bench-deploy-" + d.r.run)
	if err := d.r.tenant(ctx, conn, d.tenant); err != nil {
		return err
	}
	// The tenant's admin, as a user of the tenant would be.
	data, err := mintKubeconfig(d.server, admin.Host, string(d.tenant), pki.ClientIdentity{
		User: "bench", Groups: []string{tenancy.AdminsGroup}, Tenant: string(d.tenant),
	})
	if err != nil {
		return err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return fmt.Errorf("tenant kubeconfig: %w", err)
	}
	appsConn, err := newConnection(cfg, "deployment-bench", 100, 200)
	if err != nil {
		return err
	}
	d.conns = append(d.conns, appsConn)
	if d.apps, err = kubernetes.NewForConfigAndClient(appsConn.config, appsConn.http); err != nil {
		return err
	}
	// The tenant controller binds the admins' role after creating the
	// namespace.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := d.apps.CoreV1().Namespaces().Get(ctx, schedNamespace, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the admin of tenant %s to read its namespace: %w", d.tenant, err)
	}
	// The watch has a connection of its own, as a second client would.
	watchConn, err := newConnection(cfg, "deployment-bench-watch", 100, 200)
	if err != nil {
		return err
	}
	d.conns = append(d.conns, watchConn)
	watchCore, err := client.NewCore(watchConn.config, watchConn.http)
	if err != nil {
		return err
	}
	d.watch, err = watchPods(ctx, watchCore, d.tenant, schedNamespace, "", d.pods.observe)
	return err
}

func benchDeployment(replicas int) *appsv1.Deployment {
	labels := map[string]string{"app": deployName}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: deployName, Namespace: schedNamespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: deployContainer, Image: deployImage, Command: []string{"sleep", "infinity"},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
				}}},
			},
		},
	}
}

// measure runs the three phases.
func (d *deployRun) measure(ctx context.Context) error {
	n := d.cfg.Replicas
	deployments := d.apps.AppsV1().Deployments(schedNamespace)
	d.phases = []*deployPhase{
		{name: fmt.Sprintf("create, %d replicas", n), want: n, replicas: n,
			send: func(ctx context.Context) (int64, error) {
				dep, err := deployments.Create(ctx, benchDeployment(n), metav1.CreateOptions{})
				if err != nil {
					return 0, fmt.Errorf("creating the Deployment: %w", err)
				}
				return dep.Generation, nil
			}},
		// As `kubectl scale` and autoscalers do, through the subresource.
		{name: fmt.Sprintf("scale to %d", 2*n), want: n, replicas: 2 * n,
			send: func(ctx context.Context) (int64, error) {
				scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: deployName, Namespace: schedNamespace},
					Spec: autoscalingv1.ScaleSpec{Replicas: int32(2 * n)}}
				if _, err := deployments.UpdateScale(ctx, deployName, scale, metav1.UpdateOptions{}); err != nil {
					return 0, fmt.Errorf("scaling the Deployment: %w", err)
				}
				// The Scale does not carry the Deployment's generation.
				dep, err := deployments.Get(ctx, deployName, metav1.GetOptions{})
				if err != nil {
					return 0, err
				}
				return dep.Generation, nil
			}},
		// The patch `kubectl set image` sends.
		{name: fmt.Sprintf("image update, %d replicas", 2*n), want: 2 * n, replicas: 2 * n, rollout: true,
			send: func(ctx context.Context) (int64, error) {
				patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, deployContainer, deployUpdatedImage)
				dep, err := deployments.Patch(ctx, deployName, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
				if err != nil {
					return 0, fmt.Errorf("changing the Deployment's image: %w", err)
				}
				return dep.Generation, nil
			}},
	}
	for i, p := range d.phases {
		if err := d.runPhase(ctx, i, p); err != nil {
			return err
		}
		if p.failed != "" {
			// The next phase would start from an unknown state.
			break
		}
	}
	return nil
}

// rolledOut is kubectl rollout status's test of a finished rollout.
func rolledOut(dep *appsv1.Deployment, generation int64, replicas int) bool {
	s := dep.Status
	return s.ObservedGeneration >= generation && int(s.UpdatedReplicas) == replicas &&
		s.Replicas == s.UpdatedReplicas && s.AvailableReplicas == s.UpdatedReplicas
}

// runPhase sends the phase's request and waits until its new pods are seen
// Running and Ready, the Deployment's status says it is done and, for a
// rollout, the old pods are gone.
func (d *deployRun) runPhase(ctx context.Context, i int, p *deployPhase) error {
	r, timeout := d.r, d.cfg.Timeout
	var old []*podTrack
	for _, name := range d.pods.startPhase(i) {
		if p.rollout {
			old = append(old, d.watch.track(name))
		}
	}
	p.old = len(old)
	r.log.printf("%s: %s", deployRunName, p.name)
	p.before = d.readCPU()
	p.start = p.before.at
	generation, err := p.send(ctx)
	if err != nil {
		return err
	}
	deployments := d.apps.AppsV1().Deployments(schedNamespace)
	var (
		status                        appsv1.DeploymentStatus
		lastStatus, lastProgress      time.Time
		lastSample                    time.Time
		gone                          int
		tick                          = time.NewTicker(50 * time.Millisecond)
		podsDone, oldDone, statusDone bool
	)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		now := time.Now()
		if !statusDone && now.Sub(lastStatus) >= deployStatusEvery {
			lastStatus = now
			if dep, err := deployments.Get(ctx, deployName, metav1.GetOptions{}); err == nil {
				status = dep.Status
				if rolledOut(dep, generation, p.replicas) {
					statusDone, p.completeSeen, p.complete = true, true, time.Since(p.start)
				}
			}
		}
		created, bound, running := d.pods.count(i)
		podsDone = running >= p.want
		gone = 0
		for _, t := range old {
			if isClosed(t.gone) {
				gone++
			}
		}
		oldDone = gone == len(old)
		if now.Sub(lastSample) >= time.Second {
			lastSample = now
			d.sampleRSS()
		}
		if now.Sub(lastProgress) >= 5*time.Second {
			lastProgress = now
			cur := d.readCPU()
			wall := cur.at.Sub(p.before.at)
			msg := fmt.Sprintf("%s: %s: %d created, %d bound, %d running after %s", deployRunName, p.name, created, bound, running, seconds(wall))
			if p.rollout {
				msg += fmt.Sprintf(", %d of %d old pods gone", gone, len(old))
			}
			r.log.printf("%s; status %d replicas, %d updated, %d available; server %s, scheduler %s, agent %s", msg,
				status.Replicas, status.UpdatedReplicas, status.AvailableReplicas,
				cores(cur.server-p.before.server, wall), cores(cur.scheduler-p.before.scheduler, wall), cores(cur.agent-p.before.agent, wall))
		}
		if podsDone && statusDone && oldDone {
			break
		}
		if now.Sub(p.start) > timeout {
			p.failed = fmt.Sprintf("not done %v after the request: %d of %d new pods Running and Ready; status %d replicas, %d updated, %d available, observed generation %d of %d",
				timeout, running, p.want, status.Replicas, status.UpdatedReplicas, status.AvailableReplicas, status.ObservedGeneration, generation)
			if p.rollout {
				p.failed += fmt.Sprintf("; %d of %d old pods gone", gone, len(old))
			}
			r.problem("%s: %s: %s", deployRunName, p.name, p.failed)
			break
		}
	}
	p.after = d.readCPU()
	d.addCPU(p.name, p.before, p.after)

	d.pods.mu.Lock()
	for _, pod := range d.pods.pods {
		if pod.phase != i {
			continue
		}
		p.created++
		p.lastCreated = max(p.lastCreated, pod.seen.Sub(p.start))
		if !pod.bound.IsZero() {
			p.bound++
			p.lastBound = max(p.lastBound, pod.bound.Sub(p.start))
			p.toBound = append(p.toBound, pod.bound.Sub(pod.seen))
		}
		if !pod.running.IsZero() {
			p.running++
			p.lastRunning = max(p.lastRunning, pod.running.Sub(p.start))
			p.toRunning = append(p.toRunning, pod.running.Sub(pod.seen))
		}
	}
	d.pods.mu.Unlock()
	slices.Sort(p.toBound)
	slices.Sort(p.toRunning)
	for _, t := range old {
		if isClosed(t.gone) {
			p.gone++
			// goneAt is written before gone is closed.
			p.lastGone = max(p.lastGone, t.goneAt.Sub(p.start))
		}
	}
	r.log.printf("%s: %s: %d of %d new pods Running and Ready after %s (created by %s, bound by %s); status complete after %s; per pod created → running %s; server %s, scheduler %s, agent %s",
		deployRunName, p.name, p.running, p.want, seconds(p.lastRunning), seconds(p.lastCreated), seconds(p.lastBound),
		seconds(p.complete), latencies(p.toRunning), seconds(p.after.server-p.before.server),
		seconds(p.after.scheduler-p.before.scheduler), seconds(p.after.agent-p.before.agent))
	return nil
}

// report prints the run's tables and adds its row to the targets.
func (d *deployRun) report() {
	c, r := d.cfg, d.r
	header := []string{""}
	for _, p := range d.phases {
		header = append(header, p.name)
	}
	t := newTable(fmt.Sprintf("Deployment of %d replicas on %d simulated nodes", c.Replicas, c.Nodes),
		fmt.Sprintf("One Deployment created, scaled to twice its replicas, then its image changed, each phase started once the previous one was done; %d simulated nodes of one agent were Ready and known to the scheduler %s after the agent started. Times are from sending the phase's request to the tenant's pod watch (pkg/client, protobuf, resumed when the server closes it) first seeing the last of the phase's new pods, seeing it with spec.nodeName, and seeing it phase Running with condition Ready true; old pods gone is the last deletion seen. Deployment complete is when a read of its status, every %v, first met `kubectl rollout status`'s test: observedGeneration current, updatedReplicas = spec.replicas, status.replicas = availableReplicas = updatedReplicas. Per pod latencies are from the watch first seeing the pod (its creation) to seeing it bound or Running and Ready. CPU is from /proc/<pid>/stat over the phase; RSS is the peak of VmRSS sampled every second over all phases.",
			c.Nodes, seconds(d.nodesReady), deployStatusEvery),
		header...)
	row := func(name string, cell func(p *deployPhase) string) {
		cells := []string{name}
		for _, p := range d.phases {
			cells = append(cells, cell(p))
		}
		t.add(cells...)
	}
	row("New pods Running and Ready / expected", func(p *deployPhase) string {
		return fmt.Sprintf("%d / %d (%d created, %d bound)", p.running, p.want, p.created, p.bound)
	})
	after := func(v time.Duration, done bool) string {
		if !done {
			return "not reached"
		}
		return seconds(v)
	}
	row("All new pods created", func(p *deployPhase) string { return after(p.lastCreated, p.created >= p.want) })
	row("All new pods bound", func(p *deployPhase) string { return after(p.lastBound, p.bound >= p.want) })
	row("**All new pods Running and Ready**", func(p *deployPhase) string {
		return "**" + after(p.lastRunning, p.running >= p.want) + "**"
	})
	row("Deployment complete (status)", func(p *deployPhase) string { return after(p.complete, p.completeSeen) })
	row("Old pods gone", func(p *deployPhase) string {
		if !p.rollout {
			return "—"
		}
		return fmt.Sprintf("%d of %d, the last after %s", p.gone, p.old, seconds(p.lastGone))
	})
	row("Per pod, created → bound", func(p *deployPhase) string { return latencies(p.toBound) })
	row("**Per pod, created → Running and Ready**", func(p *deployPhase) string { return "**" + latencies(p.toRunning) + "**" })
	cpuRow := func(name string, used func(p *deployPhase) time.Duration) {
		row(name, func(p *deployPhase) string { return perPod(used(p), p.wall(), p.running) })
	}
	cpuRow("Server CPU", func(p *deployPhase) time.Duration { return p.after.server - p.before.server })
	cpuRow("Scheduler CPU", func(p *deployPhase) time.Duration { return p.after.scheduler - p.before.scheduler })
	cpuRow("Agent CPU", func(p *deployPhase) time.Duration { return p.after.agent - p.before.agent })
	cpuRow("Bench CPU", func(p *deployPhase) time.Duration { return p.after.self - p.before.self })
	row("Machine CPU (all processes)", func(p *deployPhase) string {
		m, w := p.after.machine.sub(p.before.machine), p.wall()
		others := m.others(p.after.server-p.before.server, p.after.scheduler-p.before.scheduler,
			p.after.agent-p.before.agent, p.after.self-p.before.self)
		return fmt.Sprintf("%s busy, of which %s others; %s idle", cores(m.busy, w), cores(others, w), cores(m.idle, w))
	})
	t.write(r.out)

	t = newTable(fmt.Sprintf("Deployment of %d replicas: processes", c.Replicas), "", "", "")
	t.add("Peak RSS, server / scheduler / agent", fmt.Sprintf("%s / %s / %s", mib(d.serverRSS), mib(d.schedRSS), mib(d.agentRSS)))
	t.add("Pod watch restarts / scheduler, agent log error lines", fmt.Sprintf("%d / %d, %d", d.watchRestarts, d.schedLogErrors, d.agentLogErrors))
	t.write(r.out)
	d.cpu.write(r.out)

	if len(d.phases) == 0 {
		return
	}
	first := d.phases[0]
	result := fmt.Sprintf("%s to all Running and Ready (all created %s, all bound %s; per pod created → running %s)",
		after(first.lastRunning, first.running >= first.want), after(first.lastCreated, first.created >= first.want),
		after(first.lastBound, first.bound >= first.want), latencies(first.toRunning))
	for _, p := range d.phases[1:] {
		result += fmt.Sprintf("; %s: %s to all new pods Running and Ready, status complete %s", p.name,
			after(p.lastRunning, p.running >= p.want), after(p.complete, p.completeSeen))
	}
	verdict := "reported (no target number given)"
	if first.failed != "" {
		verdict = "failed: " + first.failed
	}
	r.targets.add(fmt.Sprintf("Deployment of %d replicas on %d simulated nodes: time to all Running", c.Replicas, c.Nodes), result, "—", verdict)
}
