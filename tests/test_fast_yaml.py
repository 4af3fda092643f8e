"""The fast reader of manifest YAML gives exactly what PyYAML's SafeLoader gives, or hands the document back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubectl_apiinfo.inputs import fast_yaml
from kubectl_apiinfo.inputs import manifests

MANIFESTS = Path(__file__).parent / "manifests"


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (True == 1 in Python, not in YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return [(type(k), k) for k in a] == [(type(k), k) for k in b] and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # NaN


SNIPPETS = [
    # what helm, kustomize and kubectl write
    "a: 1\nb: two\nc: 3.5\nd: true\ne: null\nf: ~\ng:\nh: ''\ni: \"x y\"\n",
    "list:\n- a\n- b\nnested:\n  - name: x\n    value: 1\n  - name: y\n",
    "spec:\n  containers:\n  - name: app\n    args: [\"--a\", '--b', c]\n    env: {A: '1', B: \"2\"}\n",
    "data:\n  script: |\n    #!/bin/sh\n    echo hi # not a comment\n\n    exit 0\n  other: x\n",
    "a: |-\n  kept\n  lines\nb: |+\n  keep\n\n\nc: end\n",
    "a: |\n  x\n\n",
    "a: |+\n  x\n\n",
    "a: |-\n  x\n",
    "ports:\n- {name: http, port: 80, protocol: TCP}\n- {}\n- []\nselector: {}\n",
    "annotations:\n  helm.sh/hook: test\n  \"quoted/key\": v\n  'single''s': 'it''s'\n",
    "# leading comment\nkey: value # trailing\n# between\nother: 2\n",
    "yes: no\non: off\nY: n\n",  # YAML 1.1 booleans, as PyYAML reads them
    "octal: 0755\nhex: 0x1F\nsexagesimal: 1:30\nunderscore: 1_000\nexp: 1e3\nneg: -5\ninf: .inf\nnan_: .nan\n",
    "version: 1.10\nport: \"8080\"\nempty_flow: {a: }\n",
    "url: http://example.com:8080/path\ncmd: --port=8080\ndash: -x\ncolon: a:b\n",
    "- a\n- - nested\n",
    "- key: value\n  other:\n  - x\n- plain\n-\n- key2:\n    deep: 1\n",
    "a:\n  b:\n    c:\n      d: 1\n  e: 2\nf: 3\n",
    "a: 'multi word # not comment'\nb: \"hash # inside\"\n",
    "matchLabels: {app.kubernetes.io/name: shop, tier: web}\n",
    "args: [sh, -c, 'echo \"hi\"']\n",
    "k: [a, [b, c], {d: e}]\n",
    "date: 2024-01-01\n",
    "anchor: &a 1\nalias: *a\n",
    "merge:\n  <<: {a: 1}\n",
    "tag: !!str 1\n",
    "folded: >\n  a\n  b\n",
    "multi: first\n  second\n",
    "\"double\": \"with \\\\ escape\"\n",
    "indented:\n    four: 1\n    spaces: 2\n",
    "tab:\n\tx: 1\n",
    "? complex\n: key\n",
    "flow: [a,\n  b]\n",
    "dup: 1\ndup: 2\n",
    "- a: 1\n  a: 2\n",
    "just a scalar\n",
    "key: value\n  bad: indent\n",
    "a: |2\n   x\n",
    "a: |\n    x\n  y\n",
    "a: b: c\n",
    "a: [b]c\n",
    "empty: []\nempty2: {}\nquoted_empty: \"\"\n",
    "- 'a'\n- \"b\"\n- 1\n- -1\n- 0.5\n- null\n",
    "key with spaces: v\n'':\n  x: 1\n",
    "a:   spaced value   \nb:\tc\n",
    "a: x #c\nb: y#nc\n",
    "a: '#x'\nb: \"#y\"\nc: [a#b]\n",
    "big: 123456789012345678901234567890\n",
    "a: \"x\"y\n",
    "a: 'x\n  y'\n",
    "x:\n- a\ny: 1\n",
    "- - a\n  - b\n",
    "a: {b: [1, 2], c: {d: null}}\n",
    "a: {b: c, d}\n",
    "a: [b: c]\n",
    "a: @x\n",
    "a: `x`\n",
    "a: %x\n",
    "a: \"x\x00y\"\n",
    "a: x\x1b[31my\n",
    "a: 'bell\x07'\n",
    "a: x\x7fy\n",
    "a: x\x9by\n",
    "a: b\x85c\n",
    "a: \x85\n",
    "a: x\u2028y\n",
    "a: x\u2029y\n",
    "a: caf\u00e9 \u2603 \U0001F600\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_same_as_pyyaml_or_handed_back(text):
    try:
        want = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        with pytest.raises(fast_yaml.Unsupported):
            fast_yaml.load(text)
        return
    try:
        got = fast_yaml.load(text)
    except fast_yaml.Unsupported:
        return
    assert same(got, want), (got, want)


def test_real_manifests_are_read_without_pyyaml():
    documents = 0
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for _, chunk, _ in manifests._chunks(path.read_text()):
            if path.name == "broken.yaml" and "unclosed" in chunk:
                continue
            want = yaml.load(chunk, Loader=yaml.SafeLoader)
            assert same(fast_yaml.load(chunk), want), (path, chunk)
            documents += 1
    assert documents >= 12


def test_the_common_forms_take_the_fast_way():
    # If these fell back, the zipapp (pure-Python PyYAML) would be 8x slower on real charts.
    handled = [s for s in SNIPPETS[:12] if _handled(s)]
    assert handled == SNIPPETS[:12]


def _handled(text: str) -> bool:
    try:
        fast_yaml.load(text)
    except fast_yaml.Unsupported:
        return False
    return True


def test_mutated_manifests_agree_with_pyyaml():
    """Thousands of damaged variants of real manifests: equal to PyYAML's answer, or handed back; never a different one."""
    import random

    rng = random.Random(13)
    base = [chunk for path in sorted(MANIFESTS.glob("*.yaml")) for _, chunk, _ in manifests._chunks(path.read_text())]
    base += SNIPPETS
    pieces = ["\r", "---", "...", "\\", "0x", "1:2", "yes", "~", "null", ".5", "  ", "- ", ": ", " #", "|-", "|+",
              "\n  ", "\n- ", *" :-#'\"[]{},|>&*!\n\tab1.~?%@`"]
    disagreements = []
    for _ in range(4000):
        text = rng.choice(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(text) + 1)
            if rng.random() < 0.5:
                text = text[:i] + rng.choice(pieces) + text[i:]
            else:
                text = text[:i] + text[i + rng.randint(1, 3):]
        try:
            want, failed = yaml.load(text, Loader=yaml.SafeLoader), False
        except yaml.YAMLError:
            want, failed = None, True
        try:
            got = fast_yaml.load(text)
        except fast_yaml.Unsupported:
            continue
        if failed or not same(got, want):
            disagreements.append(text)
    assert disagreements == []
