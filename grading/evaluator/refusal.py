"""The evaluator's refusal: a graph that holds an op outside the allow-list, or is malformed."""

from __future__ import annotations


class GraphRefused(Exception):
    """The exported graph is refused before loading; the message (Portuguese) says why."""

    stage = "load"
