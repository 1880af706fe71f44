"""Test doubles and sample data shared by the suite's tests (``pythonpath = ["tests"]``)."""
