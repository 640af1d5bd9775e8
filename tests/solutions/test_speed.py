"""The benchmark's committed data and the targets it is judged by (no timing here)."""

from __future__ import annotations

import dataclasses

import pytest

from solutions import speed


def _row(size="medium", layer=1.0, bare=1.0, builtin=1.0):
    return speed.Row("pytorch", "TensorReduction", size, "X (2, 3)", layer, bare, builtin)


def test_committed_data_covers_every_framework_exercise_and_size():
    rows = speed.load()
    keys = [(row.framework, row.exercise, row.size) for row in rows]
    assert len(keys) == len(set(keys))
    assert set(keys) == {
        (framework, exercise, size)
        for framework in speed.FRAMEWORKS
        for exercise in speed.EXERCISES
        for size in speed.SIZES
    }
    for row in rows:
        assert min(row.layer_ms, row.bare_ms, row.builtin_ms) > 0, row
        if row.exercise == "FourierHalf":
            assert row.einsum_ms is None, row


def test_committed_large_size_is_compute_bound():
    for row in speed.load():
        if row.size == speed.BARE_TARGET_SIZE:
            assert row.bare_ms >= speed.LARGE_BARE_MIN_MS, row


def test_a_row_within_the_targets_misses_none():
    assert speed.misses(_row(layer=1.1)) == []
    assert speed.misses(_row(size="large", layer=1.1, bare=0.9)) == []


def test_a_slower_layer_misses_the_built_in_target_at_any_size():
    for size in speed.SIZES:
        (miss,) = speed.misses(_row(size=size, layer=1.2, bare=10.0))
        assert (miss.target, miss.limit) == ("builtin", speed.BUILTIN_TARGET)
        assert miss.ratio == pytest.approx(1.2)


def test_the_bare_target_applies_at_the_large_size_only():
    assert speed.misses(_row(size="small", builtin=2.0, bare=0.5)) == []
    (miss,) = speed.misses(_row(size="large", builtin=2.0, bare=0.5))
    assert (miss.target, miss.ratio, miss.limit) == ("bare", 2.0, speed.BARE_TARGET)
    both = speed.misses(_row(size="large", layer=2.0))
    assert [miss.target for miss in both] == ["builtin", "bare"]


def test_data_round_trips_at_three_significant_figures():
    row = dataclasses.replace(_row(layer=0.0123456, bare=12.3456, builtin=1.5), einsum_ms=None)
    (back,) = speed.loads(speed.dumps([row], command="x", threads=1, repeats=3))
    assert (back.layer_ms, back.bare_ms, back.builtin_ms) == (0.0123, 12.3, 1.5)
    assert back.einsum_ms is None and back.shape == row.shape


def test_unknown_rows_are_refused():
    row = dataclasses.replace(_row(), size="huge")
    with pytest.raises(ValueError, match="unknown row"):
        speed.loads(speed.dumps([row], command="x", threads=1, repeats=3))
