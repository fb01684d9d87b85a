"""Optimization jobs: auto-optimize runs that integrators and the web panel follow, cancel, and that
survive the worker that ran them."""
