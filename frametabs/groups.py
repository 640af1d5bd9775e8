"""Gather consecutive framework cells into tab groups, one tab per framework."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from frametabs.frameworks import FRAMEWORKS

T = TypeVar("T")


@dataclass(frozen=True)
class Group(Generic[T]):
    """A run of consecutive framework cells, each paired with its framework."""

    members: tuple[tuple[str, T], ...]

    def tabs(self) -> dict[str, list[T]]:
        """The group's cells per framework, in book order, cells kept in page order."""
        return {
            framework: [item for name, item in self.members if name == framework]
            for framework in FRAMEWORKS
        }

    def missing(self) -> tuple[str, ...]:
        """Frameworks the group has no cell for."""
        present = {name for name, _ in self.members}
        return tuple(framework for framework in FRAMEWORKS if framework not in present)


def consecutive_runs(
    siblings: Iterable[T], framework_of: Callable[[T], str | None]
) -> list[Group[T]]:
    """Split ``siblings`` into runs of framework items; any other item ends a run."""
    groups: list[Group[T]] = []
    run: list[tuple[str, T]] = []
    for item in siblings:
        framework = framework_of(item)
        if framework is None:
            if run:
                groups.append(Group(tuple(run)))
            run = []
        else:
            run.append((framework, item))
    if run:
        groups.append(Group(tuple(run)))
    return groups
