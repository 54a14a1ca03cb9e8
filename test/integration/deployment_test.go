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

package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// workloadTimeout bounds one step of a workload: pods created, scheduled,
// started and reported ready, or a rollout finished.
const workloadTimeout = 2 * time.Minute

// workloadTenant is a tenant as its admin drives it: stock kubectl, and
// superset clients to check what it made.
type workloadTenant struct {
	name string
	k    kubectl
	core *client.Core
	apps *client.Apps
}

func newWorkloadTenant(t *testing.T, s *framework.Server, tenant string) workloadTenant {
	cfg := s.TenantAdmin(t, tenant, user)
	core, err := client.NewCore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	appsClient, err := client.NewApps(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return workloadTenant{name: tenant, k: kubectl{kubeconfig: framework.KubeconfigFile(t, cfg)}, core: core, apps: appsClient}
}

func (w workloadTenant) tenant() tenancy.Name { return tenancy.Name(w.name) }

func (w workloadTenant) pods(ctx context.Context, selector string) ([]v1.Pod, error) {
	list, err := w.core.ListPods(ctx, w.tenant(), metav1.NamespaceDefault, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (w workloadTenant) replicaSets(ctx context.Context, selector string) ([]apps.ReplicaSet, error) {
	list, err := w.apps.ListReplicaSets(ctx, w.tenant(), metav1.NamespaceDefault, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// waitRunning waits until exactly n pods of selector are not being
// deleted, and all of them are Running and Ready and pass check; it
// returns them.
func (w workloadTenant) waitRunning(t *testing.T, selector string, n int, check func(*v1.Pod) error) []v1.Pod {
	t.Helper()
	var running []v1.Pod
	framework.Eventually(t, workloadTimeout, fmt.Sprintf("%d Running pods %s in %s", n, selector, w.name), func(ctx context.Context) error {
		pods, err := w.pods(ctx, selector)
		if err != nil {
			return err
		}
		running = running[:0]
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
				return fmt.Errorf("pod %s is %s (ready %t)", p.Name, p.Status.Phase, podReady(&p))
			}
			if check != nil {
				if err := check(&p); err != nil {
					return fmt.Errorf("pod %s: %w", p.Name, err)
				}
			}
			running = append(running, p)
		}
		if len(running) != n {
			return fmt.Errorf("%d pods", len(running))
		}
		return nil
	})
	return running
}

// image checks that a pod runs image.
func image(want string) func(*v1.Pod) error {
	return func(p *v1.Pod) error {
		if c := p.Spec.Containers; len(c) != 1 || c[0].Image != want {
			return fmt.Errorf("containers %v, want image %s", c, want)
		}
		return nil
	}
}

// rolledOut runs kubectl rollout status until the rollout of deployment
// name is complete, and returns how long that took from start.
func (w workloadTenant) rolledOut(t *testing.T, name string, start time.Time) time.Duration {
	t.Helper()
	expectContains(t, w.k.run(t, "rollout", "status", "deployment/"+name, "--timeout=55s"),
		fmt.Sprintf("deployment %q successfully rolled out", name))
	return time.Since(start)
}

// availability follows a deployment during a rollout: the fewest of its
// pods ready and not being deleted at any moment, from a watch of its
// pods, and the fewest available replicas its status reported.
type availability struct {
	mu         sync.Mutex
	minReady   int
	minStatus  int32
	podEvents  int
	statusSeen int
	errs       []error
	cancel     context.CancelFunc
	done       sync.WaitGroup
}

func watchAvailability(t *testing.T, w workloadTenant, name, selector string) *availability {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &availability{minReady: 1 << 30, minStatus: 1 << 30, cancel: cancel}
	list, err := w.core.ListPods(ctx, w.tenant(), metav1.NamespaceDefault, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	ready := map[types.UID]bool{}
	for _, p := range list.Items {
		ready[p.UID] = p.DeletionTimestamp == nil && podReady(&p)
	}
	a.observe(ready)
	pods, err := w.core.WatchPods(ctx, w.tenant(), metav1.NamespaceDefault,
		metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.apps.GetDeployment(ctx, w.tenant(), metav1.NamespaceDefault, name)
	if err != nil {
		t.Fatal(err)
	}
	deployments, err := w.apps.WatchDeployments(ctx, w.tenant(), metav1.NamespaceDefault, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: d.ResourceVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.done.Go(func() {
		defer pods.Stop()
		for e := range pods.ResultChan() {
			if ctx.Err() != nil {
				return
			}
			p, ok := e.Object.(*v1.Pod)
			if !ok {
				a.fail(fmt.Errorf("pod watch: %s %T", e.Type, e.Object))
				continue
			}
			ready[p.UID] = e.Type != watch.Deleted && p.DeletionTimestamp == nil && podReady(p)
			a.observe(ready)
		}
	})
	a.done.Go(func() {
		defer deployments.Stop()
		for e := range deployments.ResultChan() {
			if ctx.Err() != nil {
				return
			}
			d, ok := e.Object.(*apps.Deployment)
			if !ok {
				a.fail(fmt.Errorf("deployment watch: %s %T", e.Type, e.Object))
				continue
			}
			a.mu.Lock()
			a.statusSeen++
			a.minStatus = min(a.minStatus, d.Status.AvailableReplicas)
			a.mu.Unlock()
		}
	})
	return a
}

func (a *availability) observe(ready map[types.UID]bool) {
	n := 0
	for _, r := range ready {
		if r {
			n++
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.podEvents++
	a.minReady = min(a.minReady, n)
}

func (a *availability) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = append(a.errs, err)
}

// stop ends the watches and fails the test if availability ever went
// below floor.
func (a *availability) stop(t *testing.T, floor int) {
	t.Helper()
	a.cancel()
	a.done.Wait()
	for _, err := range a.errs {
		t.Error(err)
	}
	t.Logf("during the rollout: at least %d pods ready (%d pod events), status at least %d available (%d updates)",
		a.minReady, a.podEvents, a.minStatus, a.statusSeen)
	if a.minReady < floor {
		t.Errorf("only %d pods were ready at one point, below replicas - maxUnavailable = %d", a.minReady, floor)
	}
	if a.statusSeen == 0 || a.minStatus < int32(floor) {
		t.Errorf("the deployment reported %d available replicas at one point (%d updates), below %d", a.minStatus, a.statusSeen, floor)
	}
}

// revisions maps the revision annotation of each replica set of selector
// to the replica set.
func (w workloadTenant) revisions(t *testing.T, selector string) map[string]apps.ReplicaSet {
	t.Helper()
	rss, err := w.replicaSets(context.Background(), selector)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]apps.ReplicaSet{}
	for _, rs := range rss {
		out[rs.Annotations["deployment.kubernetes.io/revision"]] = rs
	}
	return out
}

// TestDeployment drives Deployments and ReplicaSets as tenant admins with
// stock kubectl, against simulated nodes and the scheduler: creation,
// scaling, rolling updates within maxUnavailable, history, undo, pause,
// resume and restart, tenants with same-named deployments, VM templates,
// replica sets replacing, adopting and releasing pods, and cascading
// deletion.
func TestDeployment(t *testing.T) {
	// kubectl is the arcturus binary: build it before anything is timed.
	framework.BinaryPath(t)
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	s.StartAgent(t, simulatedAgent(4))
	s.StartScheduler(t, schedulerOptions())
	admin := typed(t, s.AdminConfig())
	framework.Eventually(t, agentTimeout, "four Ready simulated nodes", func(ctx context.Context) error {
		nodes, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: v1.LabelSimulated + "=true"})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeCondition(&n, corev1.NodeReady) == corev1.ConditionTrue {
				ready++
			}
		}
		if ready != 4 {
			return fmt.Errorf("%d of %d nodes Ready", ready, len(nodes.Items))
		}
		return nil
	})
	a := newWorkloadTenant(t, s, acme)
	b := newWorkloadTenant(t, s, beta)
	const web = "app=web"
	ctx := context.Background()

	t.Run("create", func(t *testing.T) {
		start := time.Now()
		expectContains(t, a.k.run(t, "create", "deployment", "web", "--image=local/busybox:1", "--replicas=3", "--", "sleep", "3600"),
			"deployment.apps/web created")
		pods := a.waitRunning(t, web, 3, image("local/busybox:1"))
		t.Logf("3 replicas Running in %v", time.Since(start).Round(time.Millisecond))
		nodes := map[string]bool{}
		for _, p := range pods {
			nodes[p.Spec.NodeName] = true
			ref := metav1.GetControllerOf(&p)
			if ref == nil || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion ||
				!strings.HasPrefix(p.Name, ref.Name+"-") {
				t.Errorf("pod %s: controller %+v", p.Name, ref)
			}
		}
		if len(nodes) != 3 {
			t.Errorf("3 replicas on %d nodes, want them spread over 3", len(nodes))
		}
		t.Logf("rolled out in %v", a.rolledOut(t, "web", start).Round(time.Millisecond))

		rss := a.revisions(t, web)
		rs, ok := rss["1"]
		if len(rss) != 1 || !ok {
			t.Fatalf("replica sets by revision: %v", rss)
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		ref := metav1.GetControllerOf(&rs)
		if hash == "" || rs.Name != "web-"+hash || rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
			rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || *rs.Spec.Replicas != 3 ||
			rs.Annotations["deployment.kubernetes.io/desired-replicas"] != "3" || rs.Annotations["deployment.kubernetes.io/max-replicas"] != "4" {
			t.Errorf("replica set %s: labels %v, selector %v, replicas %d, annotations %v",
				rs.Name, rs.Labels, rs.Spec.Selector, *rs.Spec.Replicas, rs.Annotations)
		}
		if ref == nil || ref.Kind != "Deployment" || ref.Name != "web" || ref.APIVersion != "apps/v1" || !*ref.BlockOwnerDeletion {
			t.Errorf("replica set controller %+v", ref)
		}
		if rs.Status.Replicas != 3 || rs.Status.ReadyReplicas != 3 || rs.Status.AvailableReplicas != 3 ||
			rs.Status.FullyLabeledReplicas != 3 || rs.Status.ObservedGeneration != rs.Generation {
			t.Errorf("replica set status %+v", rs.Status)
		}
		d := getDeployment(t, a.k, "web")
		st := d.Status
		if st.Replicas != 3 || st.UpdatedReplicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 ||
			st.UnavailableReplicas != 0 || st.ObservedGeneration != d.Generation || d.Annotations["deployment.kubernetes.io/revision"] != "1" {
			t.Errorf("deployment status %+v, annotations %v", st, d.Annotations)
		}
		for _, c := range []struct{ typ, reason string }{{"Available", "MinimumReplicasAvailable"}, {"Progressing", "NewReplicaSetAvailable"}} {
			found := false
			for _, cond := range st.Conditions {
				if string(cond.Type) == c.typ {
					found = true
					if cond.Status != corev1.ConditionTrue || cond.Reason != c.reason {
						t.Errorf("condition %s: %+v", c.typ, cond)
					}
				}
			}
			if !found {
				t.Errorf("no %s condition in %+v", c.typ, st.Conditions)
			}
		}
	})

	t.Run("scale", func(t *testing.T) {
		start := time.Now()
		expectContains(t, a.k.run(t, "scale", "deployment", "web", "--replicas=10"), "deployment.apps/web scaled")
		a.waitRunning(t, web, 10, image("local/busybox:1"))
		t.Logf("3→10 replicas Running in %v", time.Since(start).Round(time.Millisecond))
		a.rolledOut(t, "web", start)
		if rss := a.revisions(t, web); len(rss) != 1 || *rss["1"].Spec.Replicas != 10 {
			t.Errorf("scaling made replica sets %v", rss)
		}
	})

	t.Run("events", func(t *testing.T) {
		rs := a.revisions(t, web)["1"]
		d, err := a.apps.GetDeployment(ctx, a.tenant(), metav1.NamespaceDefault, "web")
		if err != nil {
			t.Fatal(err)
		}
		// Events are written in the background: wait for them.
		framework.Eventually(t, workloadTimeout, "the deployment's scaling events in kubectl describe", func(ctx context.Context) error {
			return contains(t, a.k, []string{"describe", "deployment", "web"}, "ScalingReplicaSet", "deployment-controller",
				"Scaled up replica set "+rs.Name+" from 0 to 3", "Scaled up replica set "+rs.Name+" from 3 to 10")
		})
		pods := a.waitRunning(t, web, 10, nil)
		framework.Eventually(t, workloadTimeout, "a SuccessfulCreate event of the replica set per pod in kubectl get events", func(ctx context.Context) error {
			stdout, stderr, err := framework.Kubectl(t, a.k.kubeconfig, "get", "events")
			if err != nil {
				return fmt.Errorf("%w: %s", err, stderr)
			}
			// LAST SEEN, TYPE, REASON, OBJECT, MESSAGE ("Created pod: <name>").
			created := map[string]bool{}
			for _, row := range table(stdout) {
				if len(row) == 7 && row[1] == corev1.EventTypeNormal && row[2] == "SuccessfulCreate" && row[3] == "replicaset/"+rs.Name &&
					row[4] == "Created" && row[5] == "pod:" {
					created[row[6]] = true
				}
			}
			for _, p := range pods {
				if !created[p.Name] {
					return fmt.Errorf("no SuccessfulCreate event of %s for pod %s:\n%s", rs.Name, p.Name, stdout)
				}
			}
			return nil
		})
		expectContains(t, a.k.run(t, "describe", "replicaset", rs.Name), "SuccessfulCreate", "replicaset-controller", "Created pod: ")

		// beta sees none of acme's events, by name or by UID.
		out := b.k.run(t, "get", "events", "--all-namespaces")
		for _, w := range []string{"ScalingReplicaSet", "SuccessfulCreate", rs.Name} {
			if strings.Contains(out, w) {
				t.Errorf("beta's events show %q:\n%s", w, out)
			}
		}
		list, err := typed(t, s.TenantAdmin(t, beta, user)).CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if uid := e.InvolvedObject.UID; uid == d.UID || uid == rs.UID {
				t.Errorf("beta sees acme's event %s %q", e.Reason, e.Message)
			}
		}
	})

	t.Run("rolling update", func(t *testing.T) {
		watch := watchAvailability(t, a, "web", web)
		start := time.Now()
		expectContains(t, a.k.run(t, "set", "image", "deployment/web", "busybox=local/busybox:2"), "deployment.apps/web image updated")
		expectContains(t, a.k.run(t, "annotate", "deployment/web", "kubernetes.io/change-cause=busybox 2"), "deployment.apps/web annotated")
		t.Logf("rolled out 10 replicas in %v", a.rolledOut(t, "web", start).Round(time.Millisecond))
		a.waitRunning(t, web, 10, image("local/busybox:2"))
		// 25% of 10 may be unavailable, rounded down.
		watch.stop(t, 8)

		rss := a.revisions(t, web)
		if len(rss) != 2 || *rss["1"].Spec.Replicas != 0 || *rss["2"].Spec.Replicas != 10 ||
			rss["2"].Spec.Template.Spec.Containers[0].Image != "local/busybox:2" ||
			rss["2"].Annotations["kubernetes.io/change-cause"] != "busybox 2" {
			t.Errorf("replica sets by revision: %v", rss)
		}
	})

	t.Run("history and undo", func(t *testing.T) {
		history := table(a.k.run(t, "rollout", "history", "deployment/web"))
		if len(history) != 4 || !slices.Equal(history[1], []string{"REVISION", "CHANGE-CAUSE"}) ||
			!slices.Equal(history[2], []string{"1", "<none>"}) || !slices.Equal(history[3], []string{"2", "busybox", "2"}) {
			t.Errorf("kubectl rollout history printed %q", history)
		}
		expectContains(t, a.k.run(t, "rollout", "history", "deployment/web", "--revision=1"), "local/busybox:1")

		start := time.Now()
		expectContains(t, a.k.run(t, "rollout", "undo", "deployment/web"), "deployment.apps/web rolled back")
		a.rolledOut(t, "web", start)
		a.waitRunning(t, web, 10, image("local/busybox:1"))
		t.Logf("undo of 10 replicas in %v", time.Since(start).Round(time.Millisecond))
		d := getDeployment(t, a.k, "web")
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "local/busybox:1" || d.Annotations["deployment.kubernetes.io/revision"] != "3" {
			t.Errorf("after undo: image %s, annotations %v", img, d.Annotations)
		}
		// The first revision's replica set is reused as revision 3.
		rss := a.revisions(t, web)
		if len(rss) != 2 || *rss["3"].Spec.Replicas != 10 || rss["3"].Annotations["deployment.kubernetes.io/revision-history"] != "1" ||
			*rss["2"].Spec.Replicas != 0 {
			t.Errorf("replica sets by revision after undo: %v", rss)
		}
	})

	t.Run("pause and resume", func(t *testing.T) {
		expectContains(t, a.k.run(t, "rollout", "pause", "deployment/web"), "deployment.apps/web paused")
		expectContains(t, a.k.run(t, "set", "image", "deployment/web", "busybox=local/busybox:3"), "deployment.apps/web image updated")
		// Scaling still works while paused.
		expectContains(t, a.k.run(t, "scale", "deployment", "web", "--replicas=6"), "deployment.apps/web scaled")
		a.waitRunning(t, web, 6, image("local/busybox:1"))
		framework.Eventually(t, workloadTimeout, "the paused deployment observed", func(ctx context.Context) error {
			d, err := a.apps.GetDeployment(ctx, a.tenant(), metav1.NamespaceDefault, "web")
			if err != nil {
				return err
			}
			if d.Status.ObservedGeneration != d.Generation {
				return fmt.Errorf("generation %d observed %d", d.Generation, d.Status.ObservedGeneration)
			}
			for _, c := range d.Status.Conditions {
				if c.Type == appsv1.DeploymentProgressing && c.Reason == "DeploymentPaused" && c.Status == corev1.ConditionUnknown {
					return nil
				}
			}
			return fmt.Errorf("conditions %+v", d.Status.Conditions)
		})
		if rss := a.revisions(t, web); len(rss) != 2 {
			t.Errorf("a paused deployment rolled out: replica sets %v", rss)
		}

		start := time.Now()
		expectContains(t, a.k.run(t, "rollout", "resume", "deployment/web"), "deployment.apps/web resumed")
		a.rolledOut(t, "web", start)
		a.waitRunning(t, web, 6, image("local/busybox:3"))
		if rss := a.revisions(t, web); len(rss) != 3 || *rss["4"].Spec.Replicas != 6 {
			t.Errorf("after resume: replica sets %v", rss)
		}

		start = time.Now()
		expectContains(t, a.k.run(t, "rollout", "restart", "deployment/web"), "deployment.apps/web restarted")
		a.rolledOut(t, "web", start)
		pods := a.waitRunning(t, web, 6, image("local/busybox:3"))
		if _, ok := pods[0].Annotations["kubectl.kubernetes.io/restartedAt"]; !ok {
			t.Errorf("restarted pod annotations %v", pods[0].Annotations)
		}
		if rss := a.revisions(t, web); len(rss) != 4 {
			t.Errorf("after restart: replica sets %v", rss)
		}
	})

	t.Run("tenants are independent", func(t *testing.T) {
		acmePods, err := a.pods(ctx, web)
		if err != nil {
			t.Fatal(err)
		}
		expectContains(t, b.k.run(t, "create", "deployment", "web", "--image=local/busybox:1", "--replicas=2", "--", "sleep", "3600"),
			"deployment.apps/web created")
		b.waitRunning(t, web, 2, image("local/busybox:1"))
		b.rolledOut(t, "web", time.Now())
		// The same template makes the same replica set name in both
		// tenants; each is its own.
		betaRSs := b.revisions(t, web)
		acmeRSs := a.revisions(t, web)
		if len(betaRSs) != 1 || betaRSs["1"].Name != "web-"+betaRSs["1"].Labels[appsv1.DefaultDeploymentUniqueLabelKey] {
			t.Errorf("beta's replica sets: %v", betaRSs)
		}
		rs1, err := a.apps.GetReplicaSet(ctx, a.tenant(), metav1.NamespaceDefault, betaRSs["1"].Name)
		if err != nil || rs1.UID == betaRSs["1"].UID || *rs1.Spec.Replicas != 0 {
			t.Errorf("acme's replica set of the same name: %v, %v", rs1, err)
		}
		if len(acmeRSs) != 4 {
			t.Errorf("acme's replica sets changed: %v", acmeRSs)
		}
		after, err := a.pods(ctx, web)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(acmePods) {
			t.Errorf("acme's pods went from %d to %d", len(acmePods), len(after))
		}
		expectContains(t, b.k.run(t, "scale", "deployment", "web", "--replicas=1"), "scaled")
		b.waitRunning(t, web, 1, nil)
		a.waitRunning(t, web, 6, nil)
	})

	t.Run("revision history limit", func(t *testing.T) {
		expectContains(t, a.k.run(t, "patch", "deployment", "web", "--type=merge", "-p", `{"spec":{"revisionHistoryLimit":1}}`), "patched")
		framework.Eventually(t, workloadTimeout, "old replica sets beyond the limit deleted", func(ctx context.Context) error {
			rss, err := a.replicaSets(ctx, web)
			if err != nil {
				return err
			}
			if len(rss) != 2 {
				return fmt.Errorf("%d replica sets", len(rss))
			}
			return nil
		})
		rss := a.revisions(t, web)
		if _, ok := rss["5"]; !ok {
			t.Errorf("the current replica set went: %v", rss)
		}
		if _, ok := rss["4"]; !ok {
			t.Errorf("the newest old replica set went: %v", rss)
		}
	})

	t.Run("virtual machines", func(t *testing.T) {
		start := time.Now()
		expectContains(t, a.k.run(t, "apply", "-f", writeFile(t, "vm-deployment.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: guests
spec:
  replicas: 2
  selector:
    matchLabels:
      app: guests
  template:
    metadata:
      labels:
        app: guests
    spec:
      virtualMachine:
        image: local/vm-disk:1
        resources:
          requests:
            cpu: "1"
            memory: 512Mi
`)), "deployment.apps/guests created")
		pods := a.waitRunning(t, "app=guests", 2, func(p *v1.Pod) error {
			if p.Spec.VirtualMachine == nil || p.Spec.VirtualMachine.Image != "local/vm-disk:1" || len(p.Spec.Containers) != 0 {
				return fmt.Errorf("not a VM pod: %+v", p.Spec)
			}
			return nil
		})
		t.Logf("2 VM replicas Running in %v", time.Since(start).Round(time.Millisecond))
		if pods[0].Spec.NodeName == pods[1].Spec.NodeName {
			t.Errorf("both VMs on %s", pods[0].Spec.NodeName)
		}
		a.rolledOut(t, "guests", start)

		// A new disk rolls out as new VMs.
		expectContains(t, a.k.run(t, "patch", "deployment", "guests", "--type=merge", "-p",
			`{"spec":{"template":{"spec":{"virtualMachine":{"image":"local/vm-disk:2"}}}}}`), "patched")
		a.rolledOut(t, "guests", time.Now())
		a.waitRunning(t, "app=guests", 2, func(p *v1.Pod) error {
			if p.Spec.VirtualMachine == nil || p.Spec.VirtualMachine.Image != "local/vm-disk:2" {
				return fmt.Errorf("VM %+v", p.Spec.VirtualMachine)
			}
			return nil
		})
		if rss := a.revisions(t, "app=guests"); len(rss) != 2 {
			t.Errorf("VM replica sets: %v", rss)
		}
	})

	t.Run("recreate", func(t *testing.T) {
		expectContains(t, a.k.run(t, "apply", "-f", writeFile(t, "recreate.yaml", recreateManifest("local/busybox:1"))),
			"deployment.apps/batch created")
		a.waitRunning(t, "app=batch", 3, image("local/busybox:1"))
		a.rolledOut(t, "batch", time.Now())

		// Follow every pod until it is gone: no new pod may exist while
		// an old one does, terminating or not.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		list, err := a.core.ListPods(ctx, a.tenant(), metav1.NamespaceDefault, metav1.ListOptions{LabelSelector: "app=batch"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := a.core.WatchPods(ctx, a.tenant(), metav1.NamespaceDefault,
			metav1.ListOptions{LabelSelector: "app=batch", ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		images := map[types.UID]string{}
		for _, p := range list.Items {
			images[p.UID] = p.Spec.Containers[0].Image
		}
		var overlaps []string
		events := 0
		var mu sync.Mutex
		var done sync.WaitGroup
		done.Go(func() {
			for e := range w.ResultChan() {
				p, ok := e.Object.(*v1.Pod)
				if !ok || ctx.Err() != nil {
					return
				}
				mu.Lock()
				events++
				mu.Unlock()
				if e.Type == watch.Deleted {
					delete(images, p.UID)
				} else {
					images[p.UID] = p.Spec.Containers[0].Image
				}
				seen := map[string]bool{}
				for _, img := range images {
					seen[img] = true
				}
				if len(seen) > 1 {
					mu.Lock()
					overlaps = append(overlaps, fmt.Sprint(images))
					mu.Unlock()
				}
			}
		})
		start := time.Now()
		expectContains(t, a.k.run(t, "apply", "-f", writeFile(t, "recreate.yaml", recreateManifest("local/busybox:2"))),
			"deployment.apps/batch configured")
		a.rolledOut(t, "batch", start)
		a.waitRunning(t, "app=batch", 3, image("local/busybox:2"))
		t.Logf("recreated 3 replicas in %v", time.Since(start).Round(time.Millisecond))
		cancel()
		done.Wait()
		// At least each old pod deleted and each new one created.
		if events < 6 || len(overlaps) > 0 {
			t.Errorf("old and new pods existed together (%d pod events): %v", events, overlaps)
		}
	})

	t.Run("progress deadline", func(t *testing.T) {
		// A pod no node can take: the rollout makes no progress.
		expectContains(t, a.k.run(t, "apply", "-f", writeFile(t, "stuck.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  progressDeadlineSeconds: 3
  selector:
    matchLabels:
      app: stuck
  template:
    metadata:
      labels:
        app: stuck
    spec:
      containers:
      - name: main
        image: local/busybox:1
        resources:
          requests:
            cpu: "100"
`)), "deployment.apps/stuck created")
		_, stderr, err := framework.Kubectl(t, a.k.kubeconfig, "rollout", "status", "deployment/stuck", "--timeout=50s")
		if err == nil || !strings.Contains(stderr, `deployment "stuck" exceeded its progress deadline`) {
			t.Errorf("kubectl rollout status: %v: %s", err, stderr)
		}
		d, err := a.apps.GetDeployment(ctx, a.tenant(), metav1.NamespaceDefault, "stuck")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && (c.Status != corev1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" ||
				!strings.HasPrefix(c.Message, `ReplicaSet "stuck-`) || !strings.HasSuffix(c.Message, `" has timed out progressing.`)) {
				t.Errorf("Progressing condition %+v", c)
			}
			// Of one replica, 25% rounds down to none that may be
			// unavailable.
			if c.Type == appsv1.DeploymentAvailable && (c.Status != corev1.ConditionFalse || c.Reason != "MinimumReplicasUnavailable") {
				t.Errorf("Available condition %+v", c)
			}
		}
		expectContains(t, a.k.run(t, "delete", "deployment", "stuck"), "deleted")
	})

	t.Run("replica set", func(t *testing.T) {
		expectContains(t, a.k.run(t, "apply", "-f", writeFile(t, "rs.yaml", `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
spec:
  replicas: 2
  selector:
    matchLabels:
      app: front
  template:
    metadata:
      labels:
        app: front
    spec:
      containers:
      - name: main
        image: local/busybox:1
`)), "replicaset.apps/front created")
		pods := a.waitRunning(t, "app=front", 2, nil)

		// A deleted pod is replaced.
		start := time.Now()
		a.k.run(t, "delete", "pod", pods[0].Name, "--wait=false")
		replaced := a.waitRunning(t, "app=front", 2, func(p *v1.Pod) error {
			if p.UID == pods[0].UID {
				return fmt.Errorf("still there")
			}
			return nil
		})
		t.Logf("deleted pod replaced in %v", time.Since(start).Round(time.Millisecond))

		// A pod relabelled out of the selector is released and replaced.
		a.k.run(t, "label", "pod", replaced[0].Name, "app=loose", "--overwrite")
		a.waitRunning(t, "app=front", 2, func(p *v1.Pod) error {
			if p.UID == replaced[0].UID {
				return fmt.Errorf("still selected")
			}
			return nil
		})
		framework.Eventually(t, workloadTimeout, "the relabelled pod released", func(ctx context.Context) error {
			p, err := a.core.GetPod(ctx, a.tenant(), metav1.NamespaceDefault, replaced[0].Name)
			if err != nil {
				return err
			}
			if ref := metav1.GetControllerOf(p); ref != nil {
				return fmt.Errorf("controller %+v", ref)
			}
			return nil
		})

		// Labelled back, the orphan is adopted, and one pod too many goes.
		a.k.run(t, "label", "pod", replaced[0].Name, "app=front", "--overwrite")
		framework.Eventually(t, workloadTimeout, "the orphan adopted and the extra pod deleted", func(ctx context.Context) error {
			// Adopted, it may be the pod that goes.
			p, err := a.core.GetPod(ctx, a.tenant(), metav1.NamespaceDefault, replaced[0].Name)
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			if ref := metav1.GetControllerOf(p); err == nil && p.DeletionTimestamp == nil && (ref == nil || ref.Name != "front") {
				return fmt.Errorf("controller %+v", ref)
			}
			pods, err := a.pods(ctx, "app=front")
			if err != nil {
				return err
			}
			active := 0
			for _, p := range pods {
				if p.DeletionTimestamp == nil {
					active++
				}
			}
			if active != 2 {
				return fmt.Errorf("%d pods", active)
			}
			// The status follows the pods a moment later.
			rs, err := a.apps.GetReplicaSet(ctx, a.tenant(), metav1.NamespaceDefault, "front")
			if err != nil {
				return err
			}
			if rs.Status.Replicas != 2 || rs.Status.ObservedGeneration != rs.Generation {
				return fmt.Errorf("replica set status %+v", rs.Status)
			}
			return nil
		})
	})

	t.Run("deletion cascades", func(t *testing.T) {
		if _, err := os.Stat("../../pkg/controllers/garbagecollector"); err != nil {
			t.Log("No garbage collector in this tree: not checking that replica sets and pods go with their deployment")
			return
		}
		start := time.Now()
		expectContains(t, a.k.run(t, "delete", "deployment", "web"), `deployment.apps "web" deleted`)
		framework.Eventually(t, workloadTimeout, "replica sets and pods of web gone", func(ctx context.Context) error {
			rss, err := a.replicaSets(ctx, web)
			if err != nil {
				return err
			}
			pods, err := a.pods(ctx, web)
			if err != nil {
				return err
			}
			if len(rss)+len(pods) != 0 {
				return fmt.Errorf("%d replica sets and %d pods left", len(rss), len(pods))
			}
			return nil
		})
		t.Logf("deployment, replica sets and pods gone in %v", time.Since(start).Round(time.Millisecond))
		// beta's deployment of the same name is untouched.
		b.waitRunning(t, web, 1, nil)
	})
}

// contains runs kubectl with args and fails unless its output contains
// every one of want.
func contains(t *testing.T, k kubectl, args []string, want ...string) error {
	t.Helper()
	stdout, stderr, err := framework.Kubectl(t, k.kubeconfig, args...)
	if err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			return fmt.Errorf("kubectl %s lacks %q:\n%s", strings.Join(args, " "), w, stdout)
		}
	}
	return nil
}

// recreateManifest is a Deployment of three busybox pods of image img
// with the Recreate strategy.
func recreateManifest(img string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: batch
spec:
  replicas: 3
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app: batch
  template:
    metadata:
      labels:
        app: batch
    spec:
      containers:
      - name: main
        image: ` + img + `
        command: ["sleep", "3600"]
`
}
