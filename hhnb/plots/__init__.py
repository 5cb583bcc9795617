"""Figures: functions that take arrays and return a matplotlib Figure (one module per topic)."""
