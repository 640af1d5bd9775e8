"""Gathering runs of framework cells into groups."""

from __future__ import annotations

from frametabs.frameworks import FRAMEWORKS
from frametabs.groups import consecutive_runs


def framework_of(item: str) -> str | None:
    """Items look like ``"pytorch:1"``; anything without a colon is not a framework cell."""
    return item.split(":")[0] if ":" in item else None


def test_any_other_item_ends_a_run():
    items = ["text", "mxnet:1", "pytorch:1", "text", "tensorflow:2", "plain"]
    groups = consecutive_runs(items, framework_of)
    assert [[item for _, item in group.members] for group in groups] == [
        ["mxnet:1", "pytorch:1"],
        ["tensorflow:2"],
    ]


def test_tabs_follow_book_order_and_keep_page_order():
    items = ["tensorflow:a", "pytorch:a", "mxnet:a", "pytorch:b"]
    (group,) = consecutive_runs(items, framework_of)
    tabs = group.tabs()
    assert list(tabs) == list(FRAMEWORKS)
    assert tabs["pytorch"] == ["pytorch:a", "pytorch:b"]
    assert group.missing() == ()


def test_missing_frameworks_are_reported_in_book_order():
    (group,) = consecutive_runs(["pytorch:a"], framework_of)
    assert group.missing() == tuple(fw for fw in FRAMEWORKS if fw != "pytorch")
    assert group.tabs()["mxnet"] == []


def test_no_framework_items_no_groups():
    assert consecutive_runs(["a", "b"], framework_of) == []
