"""-o json and -o yaml: the answers' data as it is.  YAML is imported only for -o yaml."""

from __future__ import annotations

import json
import re

# Bidirectional overrides reorder what a terminal shows; JSON and YAML write them as escapes instead.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def to_json(data) -> str:
    """Standard JSON: a value that came in as NaN or Infinity (a YAML .nan in a manifest) is written as its name,
    a string; control characters and bidi overrides as escapes."""
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False)
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _finite(data):
    if isinstance(data, float) and data != data or data in (float("inf"), float("-inf")):
        return json.dumps(data)  # "NaN", "Infinity", "-Infinity"
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def to_yaml(data) -> str:
    import yaml  # only for -o yaml

    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    if _BIDI.search(text):  # escaped only where needed: other text keeps its letters (1.15–1.37)
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=False)
    return text
