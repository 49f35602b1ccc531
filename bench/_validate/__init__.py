"""Helpers of ``bench/validate``: inputs, the three contestants, interleaved timing and the report."""
