"""Shared pytest set-up: each concern keeps its fixtures in its own test folder."""
