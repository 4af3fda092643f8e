"""timeline -o svg: the picture opened in a real headless Chromium (tests/browser.py, over the DevTools
protocol) and read back by content: which rows, which state in which release's cell, the marked column, the
legend, every label inside the picture and none over another, and the colours the browser painted; plus the
document itself: well-formed XML with every name escaped, whatever the names are."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from browser import Browser, find_chromium, png_pixels
from conftest import ROOT, clean_env
from kubectl_apiinfo.printers.timeline_svg import STATES, STYLES, render

SVG = "{http://www.w3.org/2000/svg}"
INGRESS_ROWS = ["extensions/v1beta1", "networking.k8s.io/v1beta1", "networking.k8s.io/v1"]

# What the page shows, as JSON: the rows and their cells, every text with its box, the release headers,
# the marked column, the legend.  A text's own words leave out its <title> tooltip.
READ_PAGE = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const own = e => Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.data).join('');
  const svg = document.documentElement;
  return {
    root: svg.localName, ns: svg.namespaceURI,
    size: {w: svg.width.baseVal.value, h: svg.height.baseVal.value},
    scripts: document.getElementsByTagName('script').length, hostile: window.hostile === undefined ? null : true,
    rows: [...document.querySelectorAll('g.row')].map(g => {
      const label = g.querySelector('text.row-label');
      return {groupVersion: g.getAttribute('data-group-version'), kind: g.getAttribute('data-kind'),
              label: own(label), labelBox: box(label), title: label.querySelector('title').textContent,
              cells: [...g.querySelectorAll('rect.cell')].map(c => {
                const b = box(c);
                return {release: c.getAttribute('data-release'), state: c.getAttribute('data-state'),
                        fill: getComputedStyle(c).fill, title: c.querySelector('title').textContent, box: b,
                        onTop: document.elementFromPoint(b.x + b.w / 2, b.y + b.h / 2) === c};
              })};
    }),
    texts: [...document.querySelectorAll('text')].map(t => ({cls: t.getAttribute('class'), text: own(t), box: box(t)})),
    releases: [...document.querySelectorAll('text.release')].map(t => ({
      release: t.getAttribute('data-release'), text: own(t), marked: t.classList.contains('marked-release'), box: box(t)})),
    marked: [...document.querySelectorAll('g.marked')].map(g => ({release: g.getAttribute('data-release'), box: box(g)})),
    legend: [...document.querySelectorAll('g.legend-entry')].map(g => ({
      state: g.getAttribute('data-state'), text: own(g.querySelector('text.legend-label')),
      fill: getComputedStyle(g.querySelector('rect')).fill})),
  };
})()"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, offline, with a fresh profile."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("needs Chromium (/usr/bin/chromium): apt-get install -y chromium (.ci/run installs it)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    profile.mkdir()
    started = Browser(executable, profile)
    yield started
    started.close()


def timeline_svg(home, *words: str) -> str:
    """The real command's picture: kubectl apiinfo timeline WORDS... -o svg, this checkout's code."""
    env = clean_env(home, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "kubectl_apiinfo", "timeline", *words, "-o", "svg"],
                            capture_output=True, text=True, cwd=home, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def show(browser, folder, text: str):
    """(what the page says, the page) for the SVG text opened as a file, the page the picture's size."""
    path = folder / "timeline.svg"
    path.write_text(text, encoding="utf-8")
    root = ET.fromstring(text.encode())
    width, height = int(root.get("width")), int(root.get("height"))
    page = browser.open(path.as_uri(), width, height)
    return page.evaluate(READ_PAGE), page


def overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5 and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5


def assert_legible(seen: dict) -> None:
    """Every text inside the picture with a size; row labels clear of each other and of the cells; release
    headers clear of each other and above the cells."""
    w, h = seen["size"]["w"], seen["size"]["h"]
    for text in seen["texts"]:
        if text["text"].strip():
            b = text["box"]
            assert b["w"] > 0 and b["h"] > 0, text
            assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["w"] <= w and b["y"] + b["h"] <= h, f"outside the picture: {text}"
    labels = [r["labelBox"] for r in seen["rows"]]
    assert not [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if overlap(a, b)]
    for row in seen["rows"]:
        assert row["cells"], row
        assert row["labelBox"]["x"] + row["labelBox"]["w"] <= row["cells"][0]["box"]["x"], f"label runs into the cells: {row['label']}"
        assert all(c["onTop"] for c in row["cells"]), f"a cell is covered: {row['groupVersion']}"
    heads = [r["box"] for r in seen["releases"]]
    assert not [(a, b) for i, a in enumerate(heads) for b in heads[i + 1:] if overlap(a, b)]
    if seen["rows"]:
        top = seen["rows"][0]["cells"][0]["box"]["y"]
        assert all(b["y"] + b["h"] <= top for b in heads)


def test_the_ingress_timeline_renders_in_a_browser_saying_what_the_catalog_says(browser, tmp_path):
    seen, page = show(browser, tmp_path, timeline_svg(tmp_path, "ingresses", "--kube-version", "1.21"))
    assert (seen["root"], seen["ns"], seen["scripts"]) == ("svg", "http://www.w3.org/2000/svg", 0)
    rows = {r["groupVersion"]: r for r in seen["rows"]}
    assert set(INGRESS_ROWS) <= set(rows), list(rows)
    state = {gv: {c["release"]: c["state"] for c in rows[gv]["cells"]} for gv in INGRESS_ROWS}
    releases = [r["release"] for r in seen["releases"]]
    assert "1.19" in releases and "1.22" in releases and all(list(s) == releases for s in state.values())
    for gv in ("extensions/v1beta1", "networking.k8s.io/v1beta1"):
        assert (state[gv]["1.21"], state[gv]["1.22"]) == ("deprecated", "removed"), (gv, state[gv])
        assert all(state[gv][r] == "absent" for r in releases[releases.index("1.22") + 1:]), state[gv]
    v1 = state["networking.k8s.io/v1"]
    assert v1["1.18"] != "stable" and all(v1[r] == "stable" for r in releases[releases.index("1.19"):]), v1
    cell = next(c for c in rows["extensions/v1beta1"]["cells"] if c["release"] == "1.21")
    assert cell["title"] == "extensions/v1beta1 Ingress in 1.21: deprecated"
    assert rows["extensions/v1beta1"]["label"].startswith("extensions/v1beta1")

    # The 1.21 column is the one marked: its outline and its header, nothing else.
    assert [m["release"] for m in seen["marked"]] == ["1.21"]
    assert [r["release"] for r in seen["releases"] if r["marked"]] == ["1.21"]
    outline = seen["marked"][0]["box"]
    for row in rows.values():
        for c in row["cells"]:
            centre = c["box"]["x"] + c["box"]["w"] / 2
            assert (outline["x"] < centre < outline["x"] + outline["w"]) == (c["release"] == "1.21"), c
            assert outline["y"] <= c["box"]["y"] and c["box"]["y"] + c["box"]["h"] <= outline["y"] + outline["h"]

    # Each state its own colour, and the legend names every state with that colour.
    fills = {}
    for row in seen["rows"]:
        for c in row["cells"]:
            fills.setdefault(c["state"], set()).add(c["fill"])
    assert all(len(f) == 1 for f in fills.values()) and len({f.pop() for f in fills.values()}) == len(fills)
    legend = {e["state"]: e for e in seen["legend"]}
    assert set(STATES) <= set(legend) and all(e["text"] for e in legend.values())
    assert legend["deprecated"]["fill"] == cell["fill"] == "rgb(230, 159, 0)"
    caption = " ".join(t["text"] for t in seen["texts"] if t["cls"] in ("title", "source"))
    assert "ingress" in caption.lower() and "1.21" in caption
    assert_legible(seen)

    # What was painted: a PNG of the picture's size, not one colour, each cell's colour at its centre.
    width, height, pixels = png_pixels(page.screenshot())
    assert (width, height) == (int(seen["size"]["w"]), int(seen["size"]["h"]))
    assert len({p for line in pixels[::4] for p in line[::4]}) > 20
    for row in seen["rows"]:
        for c in row["cells"]:
            fill = STYLES[c["state"]][0]
            b = c["box"]
            x, y = int(b["x"] + 3), int(b["y"] + 3)  # inside the cell, off its mark
            assert pixels[y][x] == tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5)), (row["groupVersion"], c)
    page.close()


HOSTILE = {
    "kind": "Timeline",
    "releases": ["1.29", "1.30", "1.31"],
    "marked": "1.30\"><script>window.hostile=1</script>",
    "source": {"kind": "cluster", "context": "<script>window.hostile=1</script> & 'prod' \"eu\"", "release": "1.30",
               "nested": {"ignored": True}},
    "rows": [
        {"groupVersion": "evil.example.com/v1\"><script>window.hostile=1</script>", "kind": "<Kind & 'Co'>",
         "resource": "things", "custom": True, "cells": ["alpha", "beta", "stable"],
         "introduced": "1.29", "deprecated": None, "removed": None, "replacement": "<b>bold</b> & \"more\""},
        {"groupVersion": "a-very-long-group-name-" * 8 + ".example.com/v1alpha1", "kind": "Widget\x00\x07\ud800",
         "resource": None, "custom": True, "cells": ["unknown", "off", "something-new]]>"],
         "introduced": None, "deprecated": None, "removed": None, "replacement": None},
        {"groupVersion": "ウィジェット.example.jp/v1", "kind": "部品🧩", "resource": None, "custom": True,
         "cells": ["stable"] * 3, "introduced": None, "deprecated": None, "removed": None, "replacement": None},
        {"groupVersion": "ok/v1", "kind": None, "resource": None, "custom": False, "cells": ["deprecated"],
         "introduced": None, "deprecated": "1.29", "removed": "1.31", "replacement": None},
    ],
    "states": ["absent", "off", "alpha", "beta", "stable", "deprecated", "removed", "unknown"],
}


def test_hostile_names_are_escaped_and_the_document_is_well_formed_xml():
    text = render(HOSTILE)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script")) and not list(root.iter(f"{SVG}b"))
    assert "<script" not in text and "<b>" not in text and "<Kind" not in text
    rows = [g for g in root.iter(f"{SVG}g") if g.get("class") == "row"]
    assert [g.get("data-group-version") for g in rows] == [r["groupVersion"] for r in HOSTILE["rows"]]
    assert rows[0].get("data-kind") == "<Kind & 'Co'>"
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert "evil.example.com/v1\"><script>window.hostile=1</script> <Kind & 'Co'> in 1.29: alpha" in tips
    assert any("<b>bold</b> & \"more\"" in t for t in tips)
    assert any(t.startswith("a-very-long-group-name-" * 8) for t in tips), "the whole long name is in its tooltip"
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "row-label"]
    assert len(labels[1]) <= 60 and labels[1].endswith("\u2026")
    # A row shorter than the releases is drawn as unknown to the end; a state this version does not know, as itself.
    states = [[c.get("data-state") for c in g.iter(f"{SVG}rect") if "cell" in c.get("class").split()] for g in rows]
    assert states == [["alpha", "beta", "stable"], ["unknown", "off", "something-new]]>"], ["stable"] * 3,
                      ["deprecated", "unknown", "unknown"]]
    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "marked"], "the marked release is none of the columns"
    source = next(t.text for t in root.iter(f"{SVG}text") if t.get("class") == "source")
    assert source.startswith("source: cluster, Kubernetes 1.30, context <script>window.hostile=1</script> & 'prod' \"eu\"")
    assert "ignored" not in source and "nested" not in source


def test_hostile_names_stay_text_in_the_browser_and_every_label_fits(browser, tmp_path):
    seen, page = show(browser, tmp_path, render(HOSTILE))
    assert seen["scripts"] == 0 and seen["hostile"] is None
    assert [r["groupVersion"] for r in seen["rows"]] == [r["groupVersion"] for r in HOSTILE["rows"]]
    whole = "evil.example.com/v1\"><script>window.hostile=1</script> <Kind & 'Co'>"
    assert seen["rows"][0]["label"] == whole[:59] + "\u2026" and seen["rows"][0]["title"] == whole + "; custom resource, introduced 1.29, use <b>bold</b> & \"more\""
    assert_legible(seen)
    page.close()


@pytest.mark.parametrize("answer", [
    {"kind": "Timeline", "releases": [], "marked": None, "source": None, "rows": [], "states": []},
    {"kind": "Timeline", "releases": ["1.30"], "marked": "1.30", "rows": []},
    {"releases": ["1.30", "1.31"], "rows": [{"groupVersion": "v1", "cells": ["stable", "stable"]}], "source": "cluster"},
])
def test_an_empty_or_sparse_answer_is_still_a_picture(answer):
    root = ET.fromstring(render(answer).encode("utf-8"))
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    assert [g.get("data-state") for g in root.iter(f"{SVG}g") if g.get("class") == "legend-entry"] == (
        answer.get("states") or sorted({c for r in answer["rows"] for c in r["cells"]}))
