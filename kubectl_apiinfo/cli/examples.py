"""The Examples: of each command's help, as data keyed by command path: (comment, command line) pairs.

A new command's examples are one entry here.  tests/test_help.py reads every
line through the router (so a renamed flag or a wrong argument fails there, which
is why flag names may be spelled out in this module) and runs each one that needs
no cluster, checking that it succeeds.  Lines are written as a user types them,
`kubectl apiinfo ...`; a shell around one (`| ...`, `$(...)`) is allowed.
"""

EXAMPLES = {
    ("show",): [
        ("Show the group/versions that serve deployments in the current cluster (else the newest release)",
         "kubectl apiinfo deployments"),
        ("Show them in Kubernetes 1.19, from the offline catalog", "kubectl apiinfo ingresses --kube-version 1.19"),
        ("Show a resource named like a command, as YAML", "kubectl apiinfo show events -o yaml"),
        ("Show a resource of one group and version", "kubectl apiinfo ingresses.v1beta1.networking.k8s.io --kube-version 1.21"),
    ],
    ("timeline",): [
        ("Chart when each group/version of ingresses came, was deprecated and removed, with 1.21 marked",
         "kubectl apiinfo timeline ingresses --kube-version 1.21"),
        ("Chart every group/version of two API groups across the catalog's releases",
         "kubectl apiinfo timeline apps networking.k8s.io"),
        ("Chart every API, one column per release", "kubectl apiinfo timeline --all -o wide"),
        ("Draw the ingress chart as a standalone SVG picture (on stdout), for a pull request",
         "kubectl apiinfo timeline ingresses --kube-version 1.21 -o svg"),
        ("Chart the current cluster's APIs and its CRDs' versions, without colour",
         "kubectl apiinfo timeline --all --color=never"),
    ],
    ("explain",): [
        ("Get the documentation of a resource's field, for Kubernetes 1.30",
         "kubectl apiinfo explain deployments.spec.strategy --kube-version 1.30"),
        ("Get all the fields in the resource", "kubectl apiinfo explain pods --recursive --kube-version 1.33"),
        ("Get the explanation in a version other than the preferred one",
         "kubectl apiinfo explain horizontalpodautoscalers --api-version autoscaling/v1 --kube-version 1.30"),
        ("Get the documentation as kubectl explain's OpenAPI v2 format prints it",
         "kubectl apiinfo explain deployments.spec -o plaintext-openapiv2"),
    ],
    ("resources",): [
        ("Print the served resources of Kubernetes 1.25", "kubectl apiinfo resources --kube-version 1.25"),
        ("Print the served resources with their verbs and categories", "kubectl apiinfo resources -o wide"),
        ("Print the namespaced resources sorted by kind", "kubectl apiinfo resources --namespaced=true --sort-by kind"),
        ("Print the cluster-scoped resources", "kubectl apiinfo resources --namespaced=false"),
        ("Print the resources of the apps group that support watch",
         "kubectl apiinfo resources --api-group apps --verbs watch"),
    ],
    ("versions",): [
        ("Print the group/versions the current cluster serves, with stability and preference",
         "kubectl apiinfo versions"),
        ("Print those of Kubernetes 1.24, names only", "kubectl apiinfo versions --kube-version 1.24 -o name"),
        ("Render a Helm chart as it would be rendered for Kubernetes 1.30",
         "helm template ./chart $(kubectl apiinfo versions -o helm --kube-version 1.30)"),
        ("Print the kubeVersion and apiVersions of an Argo CD Application's spec.source.helm",
         "kubectl apiinfo versions -o argocd --kube-version 1.30"),
    ],
    ("releases",): [
        ("List the Kubernetes releases in the offline catalog", "kubectl apiinfo releases"),
        ("List them with where each release's data comes from", "kubectl apiinfo releases -o wide"),
    ],
    ("refresh",): [
        ("Fetch the current context's discovery into the cache", "kubectl apiinfo refresh"),
        ("Fetch every context of the kubeconfig, concurrently", "kubectl apiinfo refresh --all-contexts"),
        ("Also fetch the OpenAPI documents, for explain off the network", "kubectl apiinfo refresh --schemas --context prod"),
    ],
    ("cache", "list"): [
        ("List the cached snapshots", "kubectl apiinfo cache list"),
        ("List them as JSON", "kubectl apiinfo cache list -o json"),
    ],
    ("cache", "clear"): [
        ("Drop every cached snapshot", "kubectl apiinfo cache clear"),
        ("Drop the snapshots of two contexts", "kubectl apiinfo cache clear prod staging"),
    ],
    ("cache", "export"): [
        ("Write every cached snapshot to a bundle, for an air-gapped machine", "kubectl apiinfo cache export snapshots.json"),
    ],
    ("cache", "import"): [
        ("Add the snapshots of a bundle written by cache export", "kubectl apiinfo cache import snapshots.json"),
    ],
    ("check",): [
        ("Check manifests against Kubernetes 1.25", "kubectl apiinfo check -f deployment.yaml --kube-version 1.25"),
        ("Check a directory, all the way down, against the current cluster", "kubectl apiinfo check -f manifests/ -R"),
        ("Check a chart's rendered manifests against every cached context",
         "helm template ./chart | kubectl apiinfo check -f - --all-contexts"),
        ("Check custom resources against their CRDs, with annotations for GitHub Actions",
         "kubectl apiinfo check -f manifests/ -R --crds crds/ -o github --kube-version 1.30"),
        ("Check the files pre-commit or xargs names", "kubectl apiinfo check --kube-version 1.30 deployment.yaml service.yaml"),
    ],
    ("diff",): [
        ("Print what changes between Kubernetes 1.24 and 1.25", "kubectl apiinfo diff 1.24 1.25"),
        ("Print what changes for ingresses alone, fields included", "kubectl apiinfo diff 1.21 1.22 ingresses"),
        ("Compare the fields of every resource", "kubectl apiinfo diff 1.29 1.30 --fields -o json"),
        ("Print what a cached context lacks that Kubernetes 1.33 serves", "kubectl apiinfo diff prod 1.33"),
    ],
    ("scan",): [
        ("Scan the current cluster for APIs the newest release removes or deprecates", "kubectl apiinfo scan"),
        ("Scan every context of the kubeconfig against Kubernetes 1.33",
         "kubectl apiinfo scan --all-contexts --kube-version 1.33"),
        ("Scan only deployments and ingresses, Helm releases left out",
         "kubectl apiinfo scan --resources deployments,ingresses --no-helm"),
        ("Scan an audit log for requests to APIs Kubernetes 1.25 no longer serves",
         "kubectl apiinfo scan --audit-log audit.log --kube-version 1.25"),
    ],
    ("plan",): [
        ("Plan the upgrade of manifests from Kubernetes 1.22 to 1.30, a release at a time",
         "kubectl apiinfo plan --from 1.22 --to 1.30 -f manifests/ -R"),
        ("Plan the current cluster's upgrade to 1.30 for its live objects", "kubectl apiinfo plan --to 1.30 --live"),
        ("Print the plan as Markdown, for a pull request",
         "kubectl apiinfo plan --from 1.24 --to 1.26 -f deployment.yaml -o markdown"),
    ],
    ("migrate",): [
        ("Print manifests rewritten for Kubernetes 1.25", "kubectl apiinfo migrate -f deployment.yaml --kube-version 1.25"),
        ("Print what would change in a directory, as a unified diff",
         "kubectl apiinfo migrate -f manifests/ -R --kube-version 1.25 --diff"),
        ("Rewrite the files in place", "kubectl apiinfo migrate -f manifests/ -R --kube-version 1.25 -w"),
    ],
    ("version",): [
        ("Print the plugin's version", "kubectl apiinfo version"),
        ("The same, as plugin managers ask for it", "kubectl apiinfo --version"),
    ],
}
