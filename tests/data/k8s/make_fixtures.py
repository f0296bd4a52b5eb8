"""Writes the fixture clusters' API answers (tests/data/k8s/<cluster>/<resource>.json).

The JSON is shaped as the Kubernetes API returns it (v1.27-v1.30 reference): each file is a `*List` with
`apiVersion`, `kind`, `metadata.resourceVersion` and `items`; items carry `metadata` (name, namespace, uid,
resourceVersion, creationTimestamp, labels, annotations, ownerReferences), `spec` and `status` with the
API's field names, and, as in real list answers, no per-item `kind`/`apiVersion`. The files are committed;
re-run this script after changing it:  python tests/data/k8s/make_fixtures.py

Each cluster also has kubelet-configz.json: node -> the answer of /api/v1/nodes/<node>/proxy/configz.

Three clusters:
  hardened  every check passes (kube-system workloads are platform components: not applicable)
  weak      the usual findings: cluster-admin for a user and a default SA, anonymous bindings, no audit log,
            no encryption at rest, privileged/hostNetwork pods, :latest images, Secrets in env, NodePort and
            open LoadBalancer, an ingress without TLS, namespaces without default-deny or egress policies;
            user jane bound to a wildcard Role in kube-system, user dave with escalate/bind, etcd without
            client-certificate auth and with plain-text peers, a controller manager on 0.0.0.0 with profiling,
            a kubelet (node-1) with anonymous auth, AlwaysAllow and the read-only port
  ha        the hardened cluster with an HA control plane (kube-apiserver, kube-controller-manager,
            kube-scheduler and etcd on cp-1, cp-2, cp-3) whose kube-apiserver on cp-3 drifted (anonymous auth
            not disabled, TLS 1.0 allowed)
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

HERE = Path(__file__).parent
T0 = "2026-01-10T08:00:00Z"
_rv = [1000]


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "mlps-test/" + "/".join(parts)))


def meta(cluster: str, kind: str, name: str, ns: str | None = None, labels=None, annotations=None, owner=None,
         ts: str = T0) -> dict:
    _rv[0] += 7
    m = {"name": name}
    if ns:
        m["namespace"] = ns
    m["uid"] = _uid(cluster, kind, ns or "", name)
    m["resourceVersion"] = str(_rv[0])
    m["creationTimestamp"] = ts
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    if owner:
        okind, oname = owner
        m["ownerReferences"] = [{"apiVersion": "v1" if okind == "Node" else "apps/v1" if okind != "Job" else "batch/v1",
                                 "kind": okind, "name": oname, "uid": _uid(cluster, okind, ns or "", oname),
                                 "controller": True, **({"blockOwnerDeletion": True} if okind != "Node" else {})}]
    return m


def container(name, image, *, sc=None, env=None, env_from=None, ports=None, command=None, mounts=None) -> dict:
    c = {"name": name, "image": image}
    if command:
        c["command"] = command
    if ports:
        c["ports"] = ports
    if env:
        c["env"] = env
    if env_from:
        c["envFrom"] = env_from
    c["resources"] = {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}
    if mounts:
        c["volumeMounts"] = mounts
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    c["imagePullPolicy"] = "IfNotPresent"
    if sc is not None:
        c["securityContext"] = sc
    return c


RESTRICTED_SC = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
                 "runAsUser": 10001, "readOnlyRootFilesystem": True, "seccompProfile": {"type": "RuntimeDefault"}}


def pod_spec(containers, *, sa="default", automount=None, volumes=None, host=None, psc=None, node="node-1") -> dict:
    spec = {"volumes": volumes or [], "containers": containers, "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": sa,
            "serviceAccount": sa, "securityContext": psc or {}, "schedulerName": "default-scheduler"}
    if not spec["volumes"]:
        del spec["volumes"]
    if node:
        spec["nodeName"] = node
    if automount is not None:
        spec["automountServiceAccountToken"] = automount
    for k, v in (host or {}).items():
        spec[k] = v
    return spec


def pod(cl, name, ns, spec, *, labels=None, owner=None, phase="Running") -> dict:
    return {"metadata": meta(cl, "Pod", name, ns, labels=labels, owner=owner), "spec": spec,
            "status": {"phase": phase, "hostIP": "10.0.1.11", "podIP": "10.244.1.10",
                       "podIPs": [{"ip": "10.244.1.10"}], "startTime": T0, "qosClass": "Burstable"}}


def template(labels, spec) -> dict:
    tspec = {k: v for k, v in spec.items() if k != "nodeName"}
    return {"metadata": {"labels": labels}, "spec": tspec}


def deployment(cl, name, ns, spec, replicas=2) -> dict:
    lb = {"app": name}
    return {"metadata": meta(cl, "Deployment", name, ns, labels=lb, annotations={"deployment.kubernetes.io/revision": "3"}),
            "spec": {"replicas": replicas, "selector": {"matchLabels": lb}, "template": template(lb, spec),
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": 3, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas}}


def statefulset(cl, name, ns, spec) -> dict:
    lb = {"app": name}
    return {"metadata": meta(cl, "StatefulSet", name, ns, labels=lb),
            "spec": {"replicas": 1, "selector": {"matchLabels": lb}, "template": template(lb, spec), "serviceName": name,
                     "podManagementPolicy": "OrderedReady", "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "currentReplicas": 1}}


def daemonset(cl, name, ns, spec) -> dict:
    lb = {"k8s-app": name}
    return {"metadata": meta(cl, "DaemonSet", name, ns, labels=lb),
            "spec": {"selector": {"matchLabels": lb}, "template": template(lb, spec),
                     "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3, "numberReady": 3}}


def job(cl, name, ns, spec, owner=None) -> dict:
    spec = {**spec, "restartPolicy": "Never"}
    return {"metadata": meta(cl, "Job", name, ns, owner=owner),
            "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "template": template({"job-name": name}, spec)},
            "status": {"succeeded": 1, "startTime": T0, "completionTime": T0}}


def cronjob(cl, name, ns, spec) -> dict:
    spec = {**spec, "restartPolicy": "OnFailure"}
    return {"metadata": meta(cl, "CronJob", name, ns),
            "spec": {"schedule": "30 2 * * *", "concurrencyPolicy": "Forbid", "suspend": False,
                     "jobTemplate": {"metadata": {}, "spec": {"template": template({"cronjob": name}, spec)}},
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1},
            "status": {"lastScheduleTime": T0}}


def service(cl, name, ns, typ="ClusterIP", ports=((80, 8080),), annotations=None, ranges=None, headless=False) -> dict:
    ps = []
    for i, (port, target) in enumerate(ports):
        p = {"name": f"p{port}", "protocol": "TCP", "port": port, "targetPort": target}
        if typ in ("NodePort", "LoadBalancer"):
            p["nodePort"] = 30080 + i
        ps.append(p)
    spec = {"ports": ps, "selector": {"app": name}, "clusterIP": "None" if headless else "10.96.12.34",
            "clusterIPs": ["None" if headless else "10.96.12.34"], "type": typ, "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"}
    if ranges:
        spec["loadBalancerSourceRanges"] = ranges
    if typ in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = "Cluster"
    status = {"loadBalancer": {"ingress": [{"ip": "10.0.0.200"}]} if typ == "LoadBalancer" else {}}
    return {"metadata": meta(cl, "Service", name, ns, annotations=annotations), "spec": spec, "status": status}


def ingress(cl, name, ns, hosts, tls_hosts) -> dict:
    spec = {"ingressClassName": "nginx", "rules": [
        {"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                        "backend": {"service": {"name": name, "port": {"number": 80}}}}]}} for h in hosts]}
    if tls_hosts:
        spec["tls"] = [{"hosts": tls_hosts, "secretName": f"{name}-tls"}]
    return {"metadata": meta(cl, "Ingress", name, ns), "spec": spec,
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.201"}]}}}


def netpol(cl, name, ns, selector=None, ingress_rules=None, types=("Ingress",)) -> dict:
    spec = {"podSelector": selector or {}, "policyTypes": list(types)}
    if ingress_rules is not None:
        spec["ingress"] = ingress_rules
    return {"metadata": meta(cl, "NetworkPolicy", name, ns), "spec": spec}


def sa(cl, name, ns, automount=None) -> dict:
    o = {"metadata": meta(cl, "ServiceAccount", name, ns)}
    if automount is not None:
        o["automountServiceAccountToken"] = automount
    return o


def secret(cl, name, ns, typ="Opaque", data=None, last_applied=False) -> dict:
    ann = None
    if last_applied:
        ann = {"kubectl.kubernetes.io/last-applied-configuration":
               json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
                           "stringData": {"password": "S3cr3t-in-annotation!"}})}
    return {"metadata": meta(cl, "Secret", name, ns, annotations=ann, ts="2025-06-01T00:00:00Z"), "type": typ,
            "data": data or {}}


BOOT = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def clusterrole(cl, name, rules, builtin=False) -> dict:
    return {"metadata": meta(cl, "ClusterRole", name, labels=BOOT if builtin else None,
                             annotations=AUTOUPDATE if builtin else None), "rules": rules}


def role(cl, name, ns, rules) -> dict:
    return {"metadata": meta(cl, "Role", name, ns), "rules": rules}


def subj(kind, name, ns=None) -> dict:
    s = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        s["namespace"] = ns
    else:
        s["apiGroup"] = "rbac.authorization.k8s.io"
    return s


def crb(cl, name, role_name, subjects, builtin=False) -> dict:
    return {"metadata": meta(cl, "ClusterRoleBinding", name, labels=BOOT if builtin else None,
                             annotations=AUTOUPDATE if builtin else None),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
            "subjects": subjects}


def rb(cl, name, ns, role_kind, role_name, subjects) -> dict:
    return {"metadata": meta(cl, "RoleBinding", name, ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": subjects}


def node(cl, name, zone, ip) -> dict:
    return {"metadata": meta(cl, "Node", name, labels={
        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/region": "cn-north-1", "topology.kubernetes.io/zone": zone,
        **({"node-role.kubernetes.io/control-plane": ""} if name.startswith("cp") else {})}),
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
        "status": {"capacity": {"cpu": "4", "memory": "16318612Ki", "pods": "110"},
                   "allocatable": {"cpu": "4", "memory": "16216212Ki", "pods": "110"},
                   "conditions": [
                       {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": T0, "lastTransitionTime": T0,
                        "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                       {"type": "Ready", "status": "True", "lastHeartbeatTime": T0, "lastTransitionTime": T0,
                        "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                   "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                   "nodeInfo": {"machineID": "ec2" + name.replace("-", ""), "systemUUID": _uid(cl, "sys", name),
                                "bootID": _uid(cl, "boot", name), "kernelVersion": "5.10.219-208.866.amzn2.x86_64",
                                "osImage": "Amazon Linux 2", "containerRuntimeVersion": "containerd://1.7.11",
                                "kubeletVersion": VERSIONS[cl]["gitVersion"], "kubeProxyVersion": VERSIONS[cl]["gitVersion"],
                                "operatingSystem": "linux", "architecture": "amd64"}}}


def namespace(cl, name, psa=None) -> dict:
    labels = {"kubernetes.io/metadata.name": name}
    if psa:
        labels.update({"pod-security.kubernetes.io/enforce": psa, "pod-security.kubernetes.io/enforce-version": "latest",
                       "pod-security.kubernetes.io/audit": psa, "pod-security.kubernetes.io/warn": psa})
    return {"metadata": meta(cl, "Namespace", name, labels=labels), "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}}


VERSIONS = {
    "ha": {"major": "1", "minor": "30", "gitVersion": "v1.30.4", "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596",
           "gitTreeState": "clean", "buildDate": "2024-08-14T19:04:42Z", "goVersion": "go1.22.5",
           "compiler": "gc", "platform": "linux/amd64"},
    "hardened": {"major": "1", "minor": "30", "gitVersion": "v1.30.4", "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596",
                 "gitTreeState": "clean", "buildDate": "2024-08-14T19:04:42Z", "goVersion": "go1.22.5",
                 "compiler": "gc", "platform": "linux/amd64"},
    "weak": {"major": "1", "minor": "27", "gitVersion": "v1.27.3", "gitCommit": "25b4e43193bcda6c7328a6d147b1fb73a33f1598",
             "gitTreeState": "clean", "buildDate": "2023-06-14T09:47:40Z", "goVersion": "go1.20.5",
             "compiler": "gc", "platform": "linux/amd64"},
}


CP_IPS = {"cp-1": "10.0.1.10", "cp-2": "10.0.1.20", "cp-3": "10.0.1.30"}


def static_pod(cl, component: str, node: str, command: list[str], image_tag: str | None = None) -> dict:
    """A kubeadm static pod in kube-system (owner: its Node, name <component>-<node>)."""
    image = f"registry.k8s.io/{component}:" + (image_tag or VERSIONS[cl]["gitVersion"])
    c = container(component, image, command=command,
                  mounts=[{"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki", "readOnly": True}])
    spec = pod_spec([c], volumes=[{"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}}],
                    host={"hostNetwork": True, "priorityClassName": "system-node-critical"}, node=node)
    spec.pop("serviceAccountName")
    spec.pop("serviceAccount")
    return pod(cl, f"{component}-{node}", "kube-system", spec,
               labels={"component": component, "tier": "control-plane"}, owner=("Node", node))


def apiserver_pod(cl, flags: list[str], node: str = "cp-1") -> dict:
    ip = CP_IPS[node]
    return static_pod(cl, "kube-apiserver", node, [
        "kube-apiserver", f"--advertise-address={ip}", "--allow-privileged=true",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt", "--enable-admission-plugins=NodeRestriction",
        "--etcd-servers=https://127.0.0.1:2379", "--secure-port=6443",
        "--service-cluster-ip-range=10.96.0.0/12", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key", *flags])


ETCD_CLIENT_CERTS = ["--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
                     "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
                     "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key"]


def etcd_pod(cl, node: str, *, client_cert_auth=True, peer_tls=True) -> dict:
    ip = CP_IPS[node]
    pki = "/etc/kubernetes/pki/etcd"
    peer_scheme = "https" if peer_tls else "http"
    cmd = ["etcd", f"--advertise-client-urls=https://{ip}:2379", f"--cert-file={pki}/server.crt",
           "--data-dir=/var/lib/etcd", f"--initial-advertise-peer-urls={peer_scheme}://{ip}:2380",
           f"--key-file={pki}/server.key", f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
           "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls={peer_scheme}://{ip}:2380",
           f"--name={node}", "--snapshot-count=10000", f"--trusted-ca-file={pki}/ca.crt"]
    if client_cert_auth:
        cmd.append("--client-cert-auth=true")
    if peer_tls:
        cmd += [f"--peer-cert-file={pki}/peer.crt", f"--peer-key-file={pki}/peer.key", "--peer-client-cert-auth=true",
                f"--peer-trusted-ca-file={pki}/ca.crt"]
    return static_pod(cl, "etcd", node, cmd, image_tag="3.5.12-0")


def controller_manager_pod(cl, node: str, *, hardened=True) -> dict:
    cmd = ["kube-controller-manager", "--allocate-node-cidrs=true",
           "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
           "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
           "--client-ca-file=/etc/kubernetes/pki/ca.crt", "--cluster-name=kubernetes",
           "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt", "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
           "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
           "--leader-elect=true", "--root-ca-file=/etc/kubernetes/pki/ca.crt",
           "--service-account-private-key-file=/etc/kubernetes/pki/sa.key"]
    if hardened:
        cmd += ["--bind-address=127.0.0.1", "--profiling=false", "--use-service-account-credentials=true"]
    else:
        cmd += ["--bind-address=0.0.0.0"]
    return static_pod(cl, "kube-controller-manager", node, cmd)


def scheduler_pod(cl, node: str, *, hardened=True) -> dict:
    cmd = ["kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
           "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
           "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"]
    if hardened:
        cmd.append("--profiling=false")
    return static_pod(cl, "kube-scheduler", node, cmd)


HARDENED_APISERVER = ["--anonymous-auth=false", "--authorization-mode=Node,RBAC",
                      "--audit-log-path=/var/log/kubernetes/audit/audit.log", "--audit-log-maxage=180",
                      "--audit-log-maxbackup=10", "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
                      "--audit-webhook-config-file=/etc/kubernetes/audit-webhook.yaml",
                      "--encryption-provider-config=/etc/kubernetes/encryption-config.yaml",
                      "--tls-min-version=VersionTLS12", "--profiling=false", *ETCD_CLIENT_CERTS]


def configz(*, anonymous=False, mode="Webhook", read_only_port=0, rotate=True, server_bootstrap=True,
            tls_min="VersionTLS12") -> dict:
    """A kubelet's /configz answer (the effective KubeletConfiguration, as v1.27-v1.30 kubelets print it)."""
    k = {"enableServer": True, "staticPodPath": "/etc/kubernetes/manifests", "syncFrequency": "1m0s",
         "address": "0.0.0.0", "port": 10250, "readOnlyPort": read_only_port,
         "rotateCertificates": rotate, "authentication": {
             "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
             "webhook": {"enabled": mode == "Webhook", "cacheTTL": "2m0s"},
             "anonymous": {"enabled": anonymous}},
         "authorization": {"mode": mode, "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}},
         "clusterDomain": "cluster.local", "clusterDNS": ["10.96.0.10"], "cgroupDriver": "systemd",
         "protectKernelDefaults": True, "eventRecordQPS": 50}
    if server_bootstrap:
        k["serverTLSBootstrap"] = True
    if tls_min:
        k["tlsMinVersion"] = tls_min
    return {"kubeletconfig": k}


def common_rbac(cl) -> tuple[list, list]:
    roles = [
        clusterrole(cl, "cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                          {"nonResourceURLs": ["*"], "verbs": ["*"]}], builtin=True),
        clusterrole(cl, "view", [{"apiGroups": [""], "resources": ["pods", "services", "configmaps", "namespaces"],
                                  "verbs": ["get", "list", "watch"]}]),
        clusterrole(cl, "system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                                                           "/version/"], "verbs": ["get"]}], builtin=True),
        clusterrole(cl, "system:node-proxier", [
            {"apiGroups": [""], "resources": ["endpoints", "services", "nodes"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}], builtin=True),
    ]
    bindings = [
        crb(cl, "cluster-admin", "cluster-admin", [subj("Group", "system:masters")], builtin=True),
        crb(cl, "system:public-info-viewer", "system:public-info-viewer",
            [subj("Group", "system:authenticated"), subj("Group", "system:unauthenticated")], builtin=True),
        crb(cl, "kubeadm:node-proxier", "system:node-proxier", [subj("ServiceAccount", "kube-proxy", "kube-system")]),
    ]
    return roles, bindings


def hardened() -> dict[str, list]:
    cl = "hardened"
    out: dict[str, list] = {}
    out["nodes"] = [node(cl, "cp-1", "cn-north-1a", "10.0.1.10"), node(cl, "node-1", "cn-north-1a", "10.0.1.11"),
                    node(cl, "node-2", "cn-north-1b", "10.0.2.11")]
    nss = ["default", "kube-system", "kube-public", "kube-node-lease", "shop"]
    out["namespaces"] = [namespace(cl, n, "privileged" if n == "kube-system" else "restricted") for n in nss]
    out["networkpolicies"] = [netpol(cl, "default-deny-all", n, types=("Ingress", "Egress")) for n in nss] + [
        netpol(cl, "allow-web-from-ingress", "shop", {"matchLabels": {"app": "web"}},
               [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                 "ports": [{"protocol": "TCP", "port": 8080}]}])]
    reg = "registry.acme.cn"
    web = pod_spec([container("web", f"{reg}/shop/web:1.4.2", sc=RESTRICTED_SC, ports=[{"containerPort": 8080, "protocol": "TCP"}],
                              mounts=[{"name": "db", "mountPath": "/etc/db", "readOnly": True}])],
                   sa="web", automount=False, volumes=[{"name": "db", "secret": {"secretName": "db-credentials", "defaultMode": 420}}],
                   psc={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}})
    db = pod_spec([container("postgres", f"{reg}/library/postgres:16.3", sc=RESTRICTED_SC,
                             env=[{"name": "POSTGRES_PASSWORD_FILE", "value": "/etc/db/password"}],
                             mounts=[{"name": "db", "mountPath": "/etc/db", "readOnly": True}])],
                  sa="db", automount=False, volumes=[{"name": "db", "secret": {"secretName": "db-credentials"}}],
                  psc={"runAsNonRoot": True, "fsGroup": 999})
    backup = pod_spec([container("backup", f"{reg}/ops/pg-backup@sha256:" + "ab" * 32, sc=RESTRICTED_SC)],
                      sa="backup", automount=False, psc={"runAsNonRoot": True}, node=None)
    coredns = pod_spec([container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1",
                                  sc={"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                      "readOnlyRootFilesystem": True, "runAsNonRoot": True, "runAsUser": 65532})],
                       sa="coredns")
    proxy = pod_spec([container("kube-proxy", "registry.k8s.io/kube-proxy:v1.30.4", sc={"privileged": True})],
                     sa="kube-proxy", host={"hostNetwork": True},
                     volumes=[{"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}])
    out["deployments"] = [deployment(cl, "web", "shop", web), deployment(cl, "coredns", "kube-system", coredns)]
    out["statefulsets"] = [statefulset(cl, "db", "shop", db)]
    out["daemonsets"] = [daemonset(cl, "kube-proxy", "kube-system", proxy)]
    out["jobs"] = [job(cl, "backup-29012345", "shop", backup, owner=("CronJob", "backup"))]
    out["cronjobs"] = [cronjob(cl, "backup", "shop", backup)]
    out["pods"] = [
        apiserver_pod(cl, HARDENED_APISERVER), etcd_pod(cl, "cp-1"), controller_manager_pod(cl, "cp-1"),
        scheduler_pod(cl, "cp-1"),
        pod(cl, "web-7d9c8b6f5-k2x8p", "shop", {**web, "nodeName": "node-1"}, labels={"app": "web"}, owner=("ReplicaSet", "web-7d9c8b6f5")),
        pod(cl, "web-7d9c8b6f5-q7m4z", "shop", {**web, "nodeName": "node-2"}, labels={"app": "web"}, owner=("ReplicaSet", "web-7d9c8b6f5")),
        pod(cl, "db-0", "shop", {**db, "nodeName": "node-2"}, labels={"app": "db"}, owner=("StatefulSet", "db")),
        pod(cl, "coredns-5d78c9869d-4gq7n", "kube-system", {**coredns, "nodeName": "node-1"}, labels={"k8s-app": "kube-dns"},
            owner=("ReplicaSet", "coredns-5d78c9869d")),
        pod(cl, "kube-proxy-8xk2p", "kube-system", {**proxy, "nodeName": "node-1"}, labels={"k8s-app": "kube-proxy"},
            owner=("DaemonSet", "kube-proxy")),
    ]
    out["services"] = [service(cl, "kubernetes", "default", ports=((443, 6443),)),
                       service(cl, "kube-dns", "kube-system", ports=((53, 53),)),
                       service(cl, "web", "shop"), service(cl, "db", "shop", ports=((5432, 5432),), headless=True),
                       service(cl, "web-lb", "shop", "LoadBalancer", ports=((443, 8443),),
                               annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
                               ranges=["10.0.0.0/16"])]
    out["ingresses"] = [ingress(cl, "web", "shop", ["shop.acme.cn"], ["shop.acme.cn"])]
    out["serviceaccounts"] = [sa(cl, "default", n, automount=False) for n in nss] + [
        sa(cl, "web", "shop", False), sa(cl, "db", "shop", False), sa(cl, "backup", "shop", False),
        sa(cl, "coredns", "kube-system"), sa(cl, "kube-proxy", "kube-system")]
    out["secrets"] = [secret(cl, "db-credentials", "shop", data={"password": "UzNjcjN0IQ==", "username": "c2hvcA=="}),
                      secret(cl, "web-tls", "shop", "kubernetes.io/tls", data={"tls.crt": "LS0tLS1CRUdJTi4uLg==", "tls.key": "LS0tLS1CRUdJTi4uLg=="})]
    roles, bindings = common_rbac(cl)
    roles.append(clusterrole(cl, "mlps-scan-reader", [{"apiGroups": ["", "apps", "batch", "networking.k8s.io",
                                                                      "rbac.authorization.k8s.io"],
                                                        "resources": ["pods", "nodes"], "verbs": ["get", "list"]}]))
    bindings.append(crb(cl, "mlps-scan-reader", "mlps-scan-reader", [subj("ServiceAccount", "scanner", "mlps")]))
    roles.append(clusterrole(cl, "system:coredns", [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]))
    bindings.append(crb(cl, "system:coredns", "system:coredns", [subj("ServiceAccount", "coredns", "kube-system")]))
    out["clusterroles"] = roles
    out["clusterrolebindings"] = bindings
    out["roles"] = [role(cl, "deployer", "shop", [{"apiGroups": ["apps"], "resources": ["deployments"],
                                                   "verbs": ["get", "list", "update", "patch"]}]),
                    role(cl, "log-reader", "shop", [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}])]
    out["rolebindings"] = [rb(cl, "deployer-alice", "shop", "Role", "deployer", [subj("User", "alice@acme.cn")]),
                           rb(cl, "auditors-view", "shop", "Role", "log-reader", [subj("Group", "auditors")])]
    out["configz"] = {n["metadata"]["name"]: configz() for n in out["nodes"]}
    return out


def weak() -> dict[str, list]:
    cl = "weak"
    out: dict[str, list] = {}
    out["nodes"] = [node(cl, "cp-1", "cn-north-1a", "10.0.1.10"), node(cl, "node-1", "cn-north-1a", "10.0.1.11")]
    nss = ["default", "kube-system", "kube-public", "kube-node-lease", "shop", "dev"]
    out["namespaces"] = [namespace(cl, n) for n in nss]
    out["networkpolicies"] = [netpol(cl, "default-deny", "shop"),
                              netpol(cl, "allow-all", "dev", ingress_rules=[{}])]
    web = pod_spec([container("web", "nginx:latest", ports=[{"containerPort": 80, "protocol": "TCP"}],
                              env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}},
                                   {"name": "LOG_LEVEL", "value": "info"}])])
    api = pod_spec([container("api", "registry.acme.cn/shop/api:2.1.0", sc={"runAsNonRoot": True, "runAsUser": 1000,
                                                                             "allowPrivilegeEscalation": False})],
                   sa="api", automount=False)
    db = pod_spec([container("postgres", "postgres:13", env_from=[{"secretRef": {"name": "db-credentials"}}])])
    debug = pod_spec([container("debug", "busybox", sc={"privileged": True}, command=["sleep", "infinity"],
                                mounts=[{"name": "host", "mountPath": "/host"}])],
                     volumes=[{"name": "host", "hostPath": {"path": "/", "type": ""}}],
                     host={"hostNetwork": True, "hostPID": True})
    exporter = pod_spec([container("node-exporter", "quay.io/prometheus/node-exporter:v1.6.0",
                                   sc={"capabilities": {"add": ["SYS_ADMIN"]}},
                                   ports=[{"containerPort": 9100, "hostPort": 9100, "protocol": "TCP"}])],
                        volumes=[{"name": "proc", "hostPath": {"path": "/proc"}}], host={"hostNetwork": True, "hostPID": True})
    proxy = pod_spec([container("kube-proxy", "registry.k8s.io/kube-proxy:v1.27.3", sc={"privileged": True})],
                     sa="kube-proxy", host={"hostNetwork": True})
    migrate = pod_spec([container("migrate", "registry.acme.cn/shop/api:2.1.0", sc=RESTRICTED_SC,
                                  env=[{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-key", "key": "token"}}}])],
                       sa="api", automount=False, node=None)
    out["deployments"] = [deployment(cl, "web", "shop", web), deployment(cl, "api", "shop", api)]
    out["statefulsets"] = [statefulset(cl, "db", "shop", db)]
    out["daemonsets"] = [daemonset(cl, "node-exporter", "dev", exporter), daemonset(cl, "kube-proxy", "kube-system", proxy)]
    out["jobs"] = [job(cl, "migrate-v2", "shop", migrate)]
    out["cronjobs"] = []
    out["pods"] = [
        apiserver_pod(cl, ["--authorization-mode=Node,RBAC", "--audit-log-path=/var/log/kubernetes/audit.log",
                           "--audit-log-maxage=7"]),
        etcd_pod(cl, "cp-1", client_cert_auth=False, peer_tls=False),
        controller_manager_pod(cl, "cp-1", hardened=False), scheduler_pod(cl, "cp-1", hardened=False),
        pod(cl, "web-6b7f9d4c8-abcde", "shop", {**web, "nodeName": "node-1"}, labels={"app": "web"}, owner=("ReplicaSet", "web-6b7f9d4c8")),
        pod(cl, "web-6b7f9d4c8-fghij", "shop", {**web, "nodeName": "node-1"}, labels={"app": "web"}, owner=("ReplicaSet", "web-6b7f9d4c8")),
        pod(cl, "api-5c4d8f7b9-klmno", "shop", {**api, "nodeName": "node-1"}, labels={"app": "api"}, owner=("ReplicaSet", "api-5c4d8f7b9")),
        pod(cl, "db-0", "shop", {**db, "nodeName": "node-1"}, labels={"app": "db"}, owner=("StatefulSet", "db")),
        pod(cl, "debug", "dev", debug, labels={"run": "debug"}),
        pod(cl, "node-exporter-x2x9k", "dev", {**exporter, "nodeName": "node-1"}, labels={"k8s-app": "node-exporter"},
            owner=("DaemonSet", "node-exporter")),
        pod(cl, "kube-proxy-7pq4d", "kube-system", {**proxy, "nodeName": "node-1"}, labels={"k8s-app": "kube-proxy"},
            owner=("DaemonSet", "kube-proxy")),
        pod(cl, "migrate-v2-9z8y7", "shop", {**migrate, "nodeName": "node-1", "restartPolicy": "Never"},
            labels={"job-name": "migrate-v2"}, owner=("Job", "migrate-v2"), phase="Succeeded"),
    ]
    out["services"] = [service(cl, "kubernetes", "default", ports=((443, 6443),)),
                       service(cl, "web", "shop", "LoadBalancer", ports=((80, 80),)),
                       service(cl, "db", "shop", ports=((5432, 5432),)),
                       service(cl, "debug", "dev", "NodePort", ports=((8080, 8080),))]
    out["ingresses"] = [ingress(cl, "web", "shop", ["shop.example.cn"], []),
                        ingress(cl, "admin", "dev", ["admin.example.cn", "grafana.example.cn"], ["admin.example.cn"])]
    out["serviceaccounts"] = [sa(cl, "default", n) for n in nss] + [sa(cl, "api", "shop", False), sa(cl, "kube-proxy", "kube-system")]
    out["secrets"] = [secret(cl, "db-credentials", "shop", data={"password": "aHVudGVyMg==", "username": "cm9vdA=="}, last_applied=True),
                      secret(cl, "api-key", "shop", data={"token": "dG9rLTEyMzQ1Njc4OTA="}),
                      secret(cl, "default-token-x7k2p", "dev", "kubernetes.io/service-account-token",
                             data={"token": "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNkluUmxjM1FpZlEuZXlKemRXSWlPaUowWlhOMEluMC5zaWc="})]
    roles, bindings = common_rbac(cl)
    roles.append(clusterrole(cl, "ops-all", [{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["*"]}]))
    roles.append(clusterrole(cl, "rbac-manager", [
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles", "rolebindings", "clusterrolebindings"],
         "verbs": ["get", "list", "create", "update", "escalate", "bind"]}]))
    bindings += [crb(cl, "bob-admin", "cluster-admin", [subj("User", "bob@example.cn")]),
                 crb(cl, "ci-admin", "cluster-admin", [subj("ServiceAccount", "default", "dev")]),
                 crb(cl, "anon-view", "view", [subj("User", "system:anonymous"), subj("Group", "system:unauthenticated")]),
                 crb(cl, "ops", "ops-all", [subj("Group", "ops")]),
                 crb(cl, "dave-rbac", "rbac-manager", [subj("User", "dave@example.cn")])]
    out["clusterroles"] = roles
    out["clusterrolebindings"] = bindings
    out["roles"] = [role(cl, "everything", "dev", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
                    role(cl, "reader", "shop", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]),
                    role(cl, "ops-everything", "kube-system", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])]
    out["rolebindings"] = [rb(cl, "devs-everything", "dev", "Role", "everything", [subj("Group", "developers")]),
                           rb(cl, "reader", "shop", "Role", "reader", [subj("User", "carol@example.cn")]),
                           rb(cl, "jane-ops", "kube-system", "Role", "ops-everything", [subj("User", "jane@example.cn")])]
    out["configz"] = {"cp-1": configz(server_bootstrap=False, tls_min=None),
                      "node-1": configz(anonymous=True, mode="AlwaysAllow", read_only_port=10255, rotate=False,
                                        server_bootstrap=False, tls_min="VersionTLS10")}
    return out


def ha() -> dict[str, list]:
    """The hardened cluster with three control-plane nodes; the kube-apiserver on cp-3 drifted."""
    cl = "ha"
    out = hardened()
    _rv[0] += 1
    out["nodes"] = [node(cl, n, z, ip) for n, z, ip in (("cp-1", "cn-north-1a", "10.0.1.10"),
                                                        ("cp-2", "cn-north-1b", "10.0.1.20"),
                                                        ("cp-3", "cn-north-1c", "10.0.1.30"),
                                                        ("node-1", "cn-north-1a", "10.0.1.11"))]
    drifted = [f for f in HARDENED_APISERVER if f not in ("--anonymous-auth=false", "--tls-min-version=VersionTLS12")]
    control_plane = []
    for n in ("cp-1", "cp-2", "cp-3"):
        control_plane += [apiserver_pod(cl, drifted + ["--tls-min-version=VersionTLS10"] if n == "cp-3" else HARDENED_APISERVER, n),
                          etcd_pod(cl, n), controller_manager_pod(cl, n), scheduler_pod(cl, n)]
    workloads = [p for p in out["pods"] if (p["metadata"].get("labels") or {}).get("tier") != "control-plane"]
    out["pods"] = control_plane + [_rehome(p, cl) for p in workloads]
    for kind in ("namespaces", "networkpolicies", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs",
                 "services", "ingresses", "serviceaccounts", "secrets", "clusterroles", "clusterrolebindings", "roles",
                 "rolebindings"):
        out[kind] = [_rehome(o, cl) for o in out[kind]]
    out["configz"] = {n["metadata"]["name"]: configz() for n in out["nodes"]}
    return out


def _rehome(obj: dict, cl: str) -> dict:
    """An object of the hardened cluster as the ha cluster's (its own uid)."""
    m = obj["metadata"]
    return {**obj, "metadata": {**m, "uid": _uid(cl, m["uid"])}}


def write(cluster: str, lists: dict[str, list]) -> None:
    import sys
    sys.path.insert(0, str(HERE.parent.parent))
    from k8s_apiserver import RESOURCES  # noqa: E402
    d = HERE / cluster
    d.mkdir(exist_ok=True)
    (d / "version.json").write_text(json.dumps(VERSIONS[cluster], indent=1) + "\n")
    (d / "kubelet-configz.json").write_text(json.dumps(lists.get("configz", {}), indent=1) + "\n")
    for res, (group, ver, _ns, list_kind) in RESOURCES.items():
        doc = {"kind": list_kind, "apiVersion": f"{group}/{ver}" if group else ver,
               "metadata": {"resourceVersion": "48151623"}, "items": lists.get(res, [])}
        (d / f"{res}.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    write("hardened", hardened())
    write("weak", weak())
    write("ha", ha())
