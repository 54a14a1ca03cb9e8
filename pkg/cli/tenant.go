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

package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func newTenantCommand() *cobra.Command {
	var kubeconfig, displayName string
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants"}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tenancy.Validate(args[0]); err != nil {
				return err
			}
			client, err := tenancyClient(kubeconfig)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			t := &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: args[0]}, Spec: tenancyv1.TenantSpec{DisplayName: displayName}}
			if err := client.Post().Resource("tenants").Body(t).Do(ctx).Into(t); err != nil {
				return fmt.Errorf("creating tenant %s: %w", args[0], err)
			}
			fmt.Printf("tenant/%s created\n", t.Name)
			return nil
		},
	}
	create.Flags().StringVar(&displayName, "display-name", "", "Human-readable name of the tenant.")
	cmd.PersistentFlags().StringVar(&kubeconfig, "kubeconfig", "", "Kubeconfig of a system administrator (default: the local region's admin kubeconfig).")
	cmd.AddCommand(create)
	return cmd
}

func tenancyClient(kubeconfig string) (*rest.RESTClient, error) {
	if kubeconfig == "" {
		kubeconfig = localKubeconfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	return apiserver.TenancyClient(cfg)
}

func newKubeconfigCommand() *cobra.Command {
	var (
		dataDir, server, tenant, user string
		groups                        []string
	)
	cmd := &cobra.Command{
		Use:   "kubeconfig --tenant NAME --user NAME",
		Short: "Print a kubeconfig for a user of a tenant, signed by the region CA",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tenancy.Validate(tenant); err != nil {
				return err
			}
			if user == "" {
				return fmt.Errorf("--user is required")
			}
			ca, err := pki.LoadOrCreateCA(apiserver.TLSDir(dataDir), "arcturus-ca")
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("group") && tenant != string(tenancy.System) {
				groups = []string{tenancy.AdminsGroup}
			}
			data, err := ca.Kubeconfig(server, tenant, pki.ClientIdentity{User: user, Groups: groups, Tenant: tenant})
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(data)
			return err
		},
	}
	defaults := apiserver.NewOptions()
	cmd.Flags().StringVar(&dataDir, "data-dir", defaults.DataDir, "Data directory of the region (holds its CA).")
	cmd.Flags().StringVar(&server, "server", defaults.ServerURL(), "API server URL to put in the kubeconfig.")
	cmd.Flags().StringVar(&tenant, "tenant", "", "Tenant of the user.")
	cmd.Flags().StringVar(&user, "user", "", "User name.")
	cmd.Flags().StringSliceVar(&groups, "group", nil, "Groups of the user (default: the tenant's admins group).")
	return cmd
}
