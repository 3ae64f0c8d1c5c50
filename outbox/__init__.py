"""Shared core of the WhatsApp outbox: schema access, enqueue/claim/settle, config, errors."""
