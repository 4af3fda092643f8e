"""-o json and -o yaml: the answers' data as it is.  YAML is imported only for -o yaml."""

from __future__ import annotations

import json


def to_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_yaml(data) -> str:
    import yaml  # only for -o yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
