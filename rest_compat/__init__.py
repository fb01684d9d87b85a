"""The /api/v1 compatibility layer: endpoints declared as data, served by one generic handler."""
