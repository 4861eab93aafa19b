"""The CloudNativePG `Cluster` of the prod overlay, checked against the fields it uses.

Its CRD is not in kubernetes-validate's schemas (a custom resource), so the few fields this
project sets are described here from CloudNativePG's API reference.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from tests.deploy.manifests import of_kind

# The fields of CloudNativePG's Cluster (postgresql.cnpg.io/v1) this project uses, with their
# types from its API reference; anything else in `spec` is a typo until added here.
CNPG_CLUSTER = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "postgresql.cnpg.io/v1"},
        "kind": {"const": "Cluster"},
        "spec": {
            "type": "object",
            "required": ["instances", "storage"],
            "additionalProperties": False,
            "properties": {
                "instances": {"type": "integer", "minimum": 1},
                "imageName": {"type": "string", "pattern": "^[^:]+:(?!latest$).+$"},
                "enableSuperuserAccess": {"type": "boolean"},
                "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                "inheritedMetadata": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "annotations": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
                "bootstrap": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "initdb": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "database": {"type": "string"},
                                "owner": {"type": "string"},
                            },
                        }
                    },
                },
                "storage": {
                    "type": "object",
                    "required": ["size"],
                    "additionalProperties": False,
                    "properties": {
                        "size": {"type": "string", "pattern": "^[0-9]+(Mi|Gi|Ti)$"},
                        "storageClass": {"type": "string"},
                    },
                },
                "postgresql": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "parameters": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "resources": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "requests": {"type": "object"},
                        "limits": {"type": "object"},
                    },
                },
                "affinity": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "enablePodAntiAffinity": {"type": "boolean"},
                        "topologyKey": {"type": "string"},
                    },
                },
            },
        },
    },
}


def test_cloudnativepg_cluster_uses_known_fields_only() -> None:
    (cluster,) = of_kind("prod", "Cluster")
    jsonschema.validate(cluster, CNPG_CLUSTER)
    assert cluster["spec"]["instances"] >= 3, "one instance per failure domain, three at least"
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "skiff"
    config: Any = next(
        c for c in of_kind("prod", "ConfigMap") if "SKIFF_POSTGRES_HOST" in c["data"]
    )
    assert config["data"]["SKIFF_POSTGRES_HOST"] == f"{cluster['metadata']['name']}-rw"
