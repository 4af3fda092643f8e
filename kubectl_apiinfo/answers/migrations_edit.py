"""Edits that keep a mapping's order and comments: on a plain dict, or on a ruamel CommentedMap (which keeps each
key's comments in .ca.items), without importing ruamel: what the conversions of answers/migrations.py use."""

from __future__ import annotations


def new_map(like):
    """An empty mapping of like's type: a CommentedMap beside CommentedMaps, so it is written in block style."""
    return type(like)()


def _insert(m, position: int, key, value) -> None:
    if hasattr(m, "insert"):  # CommentedMap.insert(pos, key, value)
        m.insert(position, key, value)
        return
    items = list(m.items())
    m.clear()
    items.insert(position, (key, value))
    m.update(items)


def take_comment(m, key):
    """The comments ruamel keeps on key (its end-of-line comment and the lines after it), taken off it; else None."""
    items = getattr(getattr(m, "ca", None), "items", None)
    return items.pop(key, None) if items is not None else None


def give_comment(m, key, comment) -> None:
    if comment is not None and hasattr(m, "ca"):
        m.ca.items[key] = comment


def rename(m, old, new, value=None) -> bool:
    """old renamed new where it stood, with its comments (and value, unless one is given); whether old was there."""
    if old not in m:
        return False
    position = list(m).index(old)
    comment = take_comment(m, old)
    kept = m.pop(old)
    m.pop(new, None)
    _insert(m, min(position, len(m)), new, kept if value is None else value)
    give_comment(m, new, comment)
    return True


def place(m, key, value, after=None, before=None) -> None:
    """key set to value, a new key just after `after` or just before `before` where those are present, else last."""
    if key in m:
        m[key] = value
        return
    keys = list(m)
    if after in keys:
        position = keys.index(after) + 1
    elif before in keys:
        position = keys.index(before)
    else:
        position = len(keys)
    _insert(m, position, key, value)
