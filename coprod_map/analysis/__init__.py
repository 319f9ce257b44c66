"""Analysis: pure functions from project tables and graphs to result tables."""
