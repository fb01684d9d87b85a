"""Rouptimize backend: the delivery-dispatch domain behind GraphQL and the /api/v1 compatibility layer."""
