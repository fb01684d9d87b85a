"""Dramatiq actors. `workers` imports `app`; `app` never imports `workers`."""
