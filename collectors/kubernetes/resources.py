"""The kinds the collector lists: their client call, REST path and the asset types they feed."""
from __future__ import annotations

# kind key -> (client API class, method, REST path, asset types it feeds)
RESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "nodes": ("CoreV1Api", "list_node", "/api/v1/nodes", ("k8s.node",)),
    "namespaces": ("CoreV1Api", "list_namespace", "/api/v1/namespaces", ("k8s.namespace",)),
    "pods": ("CoreV1Api", "list_pod_for_all_namespaces", "/api/v1/pods",
             ("k8s.workload", "k8s.controlplane.apiserver", "k8s.controlplane.controller_manager",
              "k8s.controlplane.scheduler", "k8s.controlplane.etcd")),
    "services": ("CoreV1Api", "list_service_for_all_namespaces", "/api/v1/services", ("k8s.service",)),
    "serviceaccounts": ("CoreV1Api", "list_service_account_for_all_namespaces", "/api/v1/serviceaccounts",
                        ("k8s.serviceaccount",)),
    "secrets": ("CoreV1Api", "list_secret_for_all_namespaces", "/api/v1/secrets", ("k8s.secret",)),
    "deployments": ("AppsV1Api", "list_deployment_for_all_namespaces", "/apis/apps/v1/deployments", ("k8s.workload",)),
    "statefulsets": ("AppsV1Api", "list_stateful_set_for_all_namespaces", "/apis/apps/v1/statefulsets", ("k8s.workload",)),
    "daemonsets": ("AppsV1Api", "list_daemon_set_for_all_namespaces", "/apis/apps/v1/daemonsets", ("k8s.workload",)),
    "jobs": ("BatchV1Api", "list_job_for_all_namespaces", "/apis/batch/v1/jobs", ("k8s.workload",)),
    "cronjobs": ("BatchV1Api", "list_cron_job_for_all_namespaces", "/apis/batch/v1/cronjobs", ("k8s.workload",)),
    "ingresses": ("NetworkingV1Api", "list_ingress_for_all_namespaces", "/apis/networking.k8s.io/v1/ingresses",
                  ("k8s.ingress",)),
    "networkpolicies": ("NetworkingV1Api", "list_network_policy_for_all_namespaces",
                        "/apis/networking.k8s.io/v1/networkpolicies", ("k8s.networkpolicy",)),
    "roles": ("RbacAuthorizationV1Api", "list_role_for_all_namespaces",
              "/apis/rbac.authorization.k8s.io/v1/roles", ("k8s.rbac.role",)),
    "clusterroles": ("RbacAuthorizationV1Api", "list_cluster_role", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                     ("k8s.rbac.role",)),
    "rolebindings": ("RbacAuthorizationV1Api", "list_role_binding_for_all_namespaces",
                     "/apis/rbac.authorization.k8s.io/v1/rolebindings", ("k8s.rbac.binding", "k8s.rbac.subject")),
    "clusterrolebindings": ("RbacAuthorizationV1Api", "list_cluster_role_binding",
                            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                            ("k8s.rbac.binding", "k8s.rbac.subject")),
}
# `kind` of a List item -> kind key (for kubectl dumps)
ITEM_KINDS = {"Node": "nodes", "Namespace": "namespaces", "Pod": "pods", "Service": "services",
              "ServiceAccount": "serviceaccounts", "Secret": "secrets", "Deployment": "deployments",
              "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
              "Ingress": "ingresses", "NetworkPolicy": "networkpolicies", "Role": "roles", "ClusterRole": "clusterroles",
              "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings"}
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
                  "jobs": "Job", "cronjobs": "CronJob"}
