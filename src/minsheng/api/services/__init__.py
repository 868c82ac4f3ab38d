"""Writes of the open interfaces. Case changes go through cases.services; these only add what
an interface needs around them (tokens, idempotent submission, webhook deliveries)."""
