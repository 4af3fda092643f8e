"""The grammars an API server holds a manifest's values to when it decodes them.

Built-in kinds are decoded into Go types: a Quantity by apimachinery's
ParseQuantity, an IntOrString as an int32 or a string, a metav1.Time by Go's
time.Parse(RFC3339), a []byte (format byte: Secret data) by standard,
padded base64, an int32 or int64 within its range.  Custom resources are
validated by apiextensions against the formats it names (JSONSchemaProps'
format: "Unknown formats are ignored"); only those with an unambiguous
grammar are checked here, so a value is never rejected that the server takes.

Each checker answers None when the value fits, else what was wanted, in words.
"""

from __future__ import annotations

import re

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# apimachinery resource.ParseQuantity: <signedNumber><suffix>, suffix one of the binary SI, the decimal SI
# ("" m k M G T P E) or an exponent e/E<signedNumber> (its number an integer).
_QUANTITY = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[eE][+-]?[0-9]+|[mkMGTPE])?")
# Go time.Parse(time.RFC3339, s): fractional seconds allowed though the layout has none; "Z" or a numeric offset.
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})")
# kube-openapi's strfmt date-time accepts several layouts (RFC 3339 and ISO 8601 ones, with or without a zone).
_LOOSE_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_UUIDS = {
    "uuid": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"),
    "uuid3": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}"),
    "uuid4": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}"),
    "uuid5": re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}"),
}
_BSON = re.compile(r"[0-9a-fA-F]{24}")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}(?:(?:\1[0-9A-Fa-f]{2}){2})?(?:(?:\1[0-9A-Fa-f]{2}){12})?"
                  r"|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2}(?:\.[0-9A-Fa-f]{4})?(?:(?:\.[0-9A-Fa-f]{4}){6})?")


def quantity(text: str):
    """ParseQuantity's verdict on a string (the server trims spaces around it first)."""
    if _QUANTITY.fullmatch(text.strip()):
        return None
    return "a quantity such as 500m, 1.5, 128Mi or 1e3"


def rfc3339(text: str):
    return None if _RFC3339.fullmatch(text) else "an RFC 3339 time such as 2024-01-31T12:00:00Z"


def base64_text(text: str):
    # encoding/json decodes []byte with base64.StdEncoding, which skips \r and \n
    return None if _BASE64.fullmatch(text.replace("\r", "").replace("\n", "")) else "base64 (standard alphabet, padded)"


def _ip(version: int):
    def check(text: str):
        import ipaddress

        try:
            ipaddress.ip_address(text)
        except ValueError:
            return f"an IPv{version} address"
        if version == 4 and ":" in text:
            return "an IPv4 address"
        return None
    return check


def _cidr(text: str):
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)  # Go's ParseCIDR takes host bits
    except ValueError:
        return "a CIDR such as 10.0.0.0/8"
    return None if "/" in text else "a CIDR such as 10.0.0.0/8"


def _pattern(regexp, wanted: str):
    return lambda text: None if regexp.fullmatch(text) else wanted


# apiextensions' formats with one clear grammar; the rest (uri, email, hostname, duration, isbn, ...) pass.
CRD_FORMATS = {
    "byte": base64_text,
    "date": _pattern(_DATE, "a date such as 2024-01-31"),
    "date-time": _pattern(_LOOSE_DATE_TIME, "a date-time such as 2024-01-31T12:00:00Z"),
    "datetime": _pattern(_LOOSE_DATE_TIME, "a date-time such as 2024-01-31T12:00:00Z"),
    "bsonobjectid": _pattern(_BSON, "a BSON object id (24 hex digits)"),
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "cidr": _cidr,
    "mac": _pattern(_MAC, "a MAC address such as 00:1a:2b:3c:4d:5e"),
    **{name: _pattern(regexp, f"a{'n' if name == 'uuid' else ''} {name.upper()}") for name, regexp in _UUIDS.items()},
}
# What a built-in kind's Go types refuse on decode, by format.
BUILTIN_FORMATS = {"byte": base64_text, "date-time": rfc3339}


def go_regexp(pattern: str):
    """A CRD's pattern (Go RE2 syntax) as a Python regexp, or None where the two could disagree."""
    if "\\p" in pattern or "\\P" in pattern or "(?P<" in pattern or "\\z" in pattern or "\\C" in pattern:
        return None
    try:
        return re.compile(pattern, re.ASCII)  # RE2's \\d, \\w and \\s are ASCII
    except (re.error, RecursionError, OverflowError):
        return None
