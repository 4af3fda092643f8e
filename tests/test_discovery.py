"""Discovery parsing on the documents a real API server sends (as the fake server builds them)."""

import pytest

from kubectl_apiinfo.kube.discovery_documents import is_aggregated, kubernetes_minor, parse_aggregated, parse_resource_list


@pytest.mark.parametrize(
    "content_type,expected",
    [
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", True),
        ("application/json; as=APIGroupDiscoveryList; v=v2beta1; g=apidiscovery.k8s.io", True),
        ("application/json;v=v2;as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;charset=utf-8", True),
        ("application/json", False),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupList", False),
        ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", False),
        ("", False),
    ],
)
def test_aggregated_is_decided_by_content_type_parameters_in_any_order(content_type, expected):
    assert is_aggregated(content_type) is expected


def test_empty_response_kind_group_and_version_mean_the_enclosing_ones():
    doc = {
        "items": [
            {
                "metadata": {"name": "apps"},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [
                            {
                                "resource": "deployments",
                                "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                                "scope": "Namespaced",
                                "verbs": ["get"],
                                "subresources": [
                                    {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get"]},
                                    {"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Deployment"}, "verbs": ["get"]},
                                ],
                            }
                        ],
                        "freshness": "Current",
                    },
                    {"version": "v1beta1", "freshness": "Stale"},
                ],
            }
        ]
    }
    groups, failed = parse_aggregated([doc])
    deploy = groups[0].versions[0].resources[0]
    subs = {s.name: (s.group, s.version, s.kind) for s in deploy.subresources}
    assert subs == {"scale": ("autoscaling", "v1", "Scale"), "status": ("apps", "v1", "Deployment")}
    assert deploy.namespaced and groups[0].preferred_version == "v1"
    assert failed == {"apps/v1beta1": "its API server reported stale discovery"}


def test_legacy_subresources_fold_into_their_resource():
    doc = {
        "resources": [
            {"name": "deployments", "namespaced": True, "kind": "Deployment", "verbs": ["get"], "shortNames": ["deploy"]},
            {"name": "deployments/scale", "namespaced": True, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get"]},
            {"name": "deployments/status", "namespaced": True, "kind": "Deployment", "verbs": ["get"]},
        ]
    }
    [deploy] = parse_resource_list(doc, "apps", "v1")
    assert [(s.name, s.group, s.version) for s in deploy.subresources] == [("scale", "autoscaling", "v1"), ("status", "apps", "v1")]
    assert deploy.short_names == ["deploy"]


@pytest.mark.parametrize(
    "info,minor",
    [({"major": "1", "minor": "33"}, "1.33"), ({"major": "1", "minor": "29+"}, "1.29"), ({"gitVersion": "v1.31.4-eks-1"}, "1.31"), ({}, "")],
)
def test_kubernetes_minor(info, minor):
    assert kubernetes_minor(info) == minor
