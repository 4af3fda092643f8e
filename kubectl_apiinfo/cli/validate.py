"""Complete, then validate: a parsed line's text values become what commands use,
before any file is read or any request is made (kubectl's Complete/Validate/Run).

Every message that names a flag is written here, where the flag is known.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.cli import spec
from kubectl_apiinfo.errors import UserError, shorten
from kubectl_apiinfo.model import release_name

# strconv.ParseBool, which pflag uses for every bool flag.
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
# Go's time.ParseDuration units, in seconds.
_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_MAX_DURATION = (2**63 - 1) * 1e-9  # Go's time.Duration is int64 nanoseconds: about 292 years


class Options:
    """A command's options and arguments, typed and validated: one attribute per dest the spec declares for
    that command (options_class builds the class), the command's path, and .flags, the cluster flags
    (sources.cluster.flags.ClusterFlags) of a command that reads a cluster."""

    __slots__ = ("path", "flags")

    def __init__(self, path: tuple, values: dict):
        self.path = path
        self.flags = None
        for name, value in values.items():
            setattr(self, name, value)

    def values(self) -> dict:
        """Every option and argument by dest."""
        return {name: getattr(self, name) for name in type(self).__slots__}

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "token" and v else v) for k, v in self.values().items()}
        return f"{type(self).__name__}({self.path!r}, {shown!r})"


_OPTION_CLASSES: dict = {}


def options_class(path: tuple, command: spec.Command) -> type:
    """The Options of one command: its dests as slots, so a misspelt option is an error, not a None."""
    cls = _OPTION_CLASSES.get(path)
    if cls is None:
        dests = tuple(dict.fromkeys([o.dest for o in command.options] + [a.dest for a in command.arguments]))
        name = "".join(p.title() for p in path) + "Options"
        cls = _OPTION_CLASSES[path] = type(name, (Options,), {"__slots__": dests})
    return cls


def parse_bool(text: str, option: spec.Option) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UserError(f"{option.name} takes true or false ({option.name}, {option.name}=true, {option.name}=false), not {shorten(text)!r}")


def parse_duration(text: str, option: spec.Option) -> float:
    """Seconds in a Go duration ('1m30s', '500ms', '0') or whole seconds ('30'), as kubectl reads them."""
    value = text.strip()
    seconds: Optional[float] = None
    if re.fullmatch(r"\d+", value):
        seconds = float(int(value)) if len(value) < 20 else float("inf")
    elif value and _DURATION_PART.sub("", value) == "" and _DURATION_PART.match(value):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value))
    if seconds is None:
        raise UserError(
            f"{option.name} {shorten(text)!r} is not a duration; use a whole number of seconds or forms like 0, 30s, 1m or 500ms"
        )
    if seconds > _MAX_DURATION:
        raise UserError(f"{option.name} {shorten(text)!r} is out of range; the longest duration is about 292 years")
    return seconds


def _release(text: str, option: spec.Option) -> str:
    from kubectl_apiinfo.sources.catalog import releases

    name = release_name(text)
    if name is None:
        raise UserError(f"{option.name} {shorten(text)!r} is not a Kubernetes version; use a form like 1.33 or v1.33.2")
    return releases.normalize_release(name)  # and one the catalog has


def _value(option: spec.Option, raw):
    if option.kind == spec.STRINGS:
        if not raw:
            return None
        return [v.strip() for item in raw for v in item.split(",") if v.strip()]  # given empty: [], not absent
    if raw is None and option.env and os.environ.get(option.env, "").strip():
        return _from_environment(option)
    if raw is None:
        raw = option.default
    if raw is None:
        return None
    if option.kind == spec.BOOL:
        return raw if isinstance(raw, bool) else parse_bool(raw, option)
    if option.kind == spec.DURATION:
        return parse_duration(raw, option)
    if option.kind == spec.CHOICE:
        if raw == "" and option.default is not None:
            return option.default  # -o '' is the default format, as in kubectl
        if raw not in option.choices:
            allowed = ", ".join(option.choices[:-1]) + f" or {option.choices[-1]}"
            raise UserError(f"{option.name} {shorten(raw)!r} is not available; {option.name} accepts only {allowed}")
        return raw
    if option.kind == spec.RELEASE:
        return _release(raw, option)
    return raw


def _from_environment(option: spec.Option):
    """The environment variable standing in for an absent flag, checked like the flag, named in errors."""
    stand_in = spec.Option(option.env, option.kind, choices=option.choices)
    return _value(stand_in, os.environ[option.env])


def _given(option: spec.Option, value) -> bool:
    return value is True if option.kind == spec.BOOL else value is not None


# --- contradictions and malformed values, as named checks (as pip's cmdoptions does) ---------------------
# Each takes (path, the dests given on the line, every typed value) and raises UserError.


def refresh_with_offline(path: tuple, given: set, values: dict) -> None:
    if {"refresh", "offline"} <= given:
        raise UserError(f"{spec.REFRESH.name} and {spec.OFFLINE.name} contradict each other; pick one")


def refresh_command_offline(path: tuple, given: set, values: dict) -> None:
    if path == ("refresh",) and "offline" in given:
        raise UserError(f"'refresh' fetches from the cluster, which {spec.OFFLINE.name} forbids; drop {spec.OFFLINE.name}")


def release_with_cluster_flag(path: tuple, given: set, values: dict) -> None:
    if "kube_version" in given and path != ("scan",):  # scan reads a cluster against a release: both at once
        clashing = [o.name for o in spec.SELECTS_A_CLUSTER if o.dest in given]
        if clashing:
            raise UserError(
                f"{spec.KUBE_VERSION.name} answers from the offline catalog, and {clashing[0]} selects a cluster; "
                "use one or the other"
            )


def audit_log_alone(path: tuple, given: set, values: dict) -> None:
    """scan --audit-log reads the log alone: a flag that picks or narrows a cluster would be silently unused."""
    if "audit_log" not in given:
        return
    if not values["audit_log"].strip():
        raise UserError(f"{spec.AUDIT_LOG.name} needs a file: the audit log to scan, or '-' for stdin")
    clashing = [o.name for o in (spec.SCAN_RESOURCES, spec.LAST_APPLIED, spec.ALL_CONTEXTS, *spec.SELECTS_A_CLUSTER)
                if o.dest in given and o is not spec.OFFLINE]
    if clashing:
        raise UserError(
            f"{spec.AUDIT_LOG.name} scans the audit log alone, offline, and {clashing[0]} is for scanning a cluster; "
            f"drop {clashing[0]}, or scan the cluster in a run of its own"
        )


def release_with_all_contexts(path: tuple, given: set, values: dict) -> None:
    if {"all_contexts", "kube_version"} <= given and path != ("scan",):  # scan: the contexts against that release
        raise UserError(f"{spec.KUBE_VERSION.name} checks against a release and {spec.ALL_CONTEXTS.name} against every cached context; pick one")


def all_contexts_with_context(path: tuple, given: set, values: dict) -> None:
    if {"all_contexts", "context"} <= given:
        raise UserError(f"{spec.ALL_CONTEXTS.name} and {spec.CONTEXT.name} contradict each other; pick one")


def empty_resource(path: tuple, given: set, values: dict) -> None:
    resource = values.get("resource")
    if resource is not None and not resource.strip():
        raise UserError("a resource name is required, e.g. 'kubectl apiinfo deployments'")


def malformed_api_version(path: tuple, given: set, values: dict) -> None:
    api_version = values.get("api_version")
    if api_version is not None and (not api_version.strip() or api_version.count("/") > 1):
        raise UserError(
            f"{spec.API_VERSION.name} {shorten(api_version)!r} is not GROUP/VERSION (or VERSION for the core group), "
            "e.g. apps/v1"
        )


def empty_fail_on(path: tuple, given: set, values: dict) -> None:
    if "fail_on" in given and not values["fail_on"]:  # an empty list would fail on nothing: surely not meant
        raise UserError(f"{spec.FAIL_ON.name} needs at least one finding, e.g. {spec.FAIL_ON.name} not-served,deprecated")


def markdown_without_headers(path: tuple, given: set, values: dict) -> None:
    if values.get("output") == "markdown" and values.get("no_headers"):
        raise UserError(
            f"{spec.OUTPUT.name} markdown is a table, and a markdown table needs its header row; drop {spec.NO_HEADERS.name} "
            "(or use -o csv)"
        )


CHECKS = (
    refresh_with_offline, refresh_command_offline, audit_log_alone, release_with_cluster_flag, release_with_all_contexts,
    all_contexts_with_context, empty_resource, malformed_api_version, empty_fail_on, markdown_without_headers,
)


def complete(path: tuple, command: spec.Command, raw: dict) -> Options:
    """Typed values for every option and argument (the environment standing in for absent flags), then
    every check: nothing is read or fetched before the line is known good."""
    values = {o.dest: _value(o, raw.get(o.dest)) for o in command.options}
    for argument in command.arguments:
        values[argument.dest] = raw.get(argument.dest)
    given = {o.dest for o in command.options if _given(o, values[o.dest])}
    for check in CHECKS:
        check(path, given, values)
    options = options_class(path, command)(path, values)
    if command.takes_cluster:
        from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

        options.flags = ClusterFlags.from_values(values)
    return options
