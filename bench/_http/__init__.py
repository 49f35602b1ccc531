"""Helpers of ``bench/http``: the echo app, the load generators and the run."""
