"""Inbound platform events: the webhook inbox, the topic -> handler table, and its handlers."""
